import AdaTensor

/// Keras `Multiply`: the elementwise product of n ≥ 1 inputs of identical shape (no
/// broadcasting). `[N, …] × n → [N, …]`. No parameters.
///
/// Backward: `dx_i = dy ⊙ Π_{j≠i} x_j`, computed as a product of the other inputs (not by
/// dividing the output by `x_i`), so zeros in the inputs are handled exactly.
public struct MultiplyLayer: Layer {
  public init() {}

  public struct Cache: Sendable {
    /// The inputs, `[N, …]` each; empty when backward is not needed.
    var inputs: [Tensor]
    var inputCount: Int
    var inputsNeedGradient: Bool
  }

  // MARK: Shape contract

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    try elementwiseMergeShape(inputs, layer: "multiply")
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { [] }

  // MARK: Forward

  /// - Parameter inputs: n tensors `[N, …]`, all the same shape.
  /// - Returns: `Π inputs`, same shape.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(!inputs.isEmpty, "MultiplyLayer: needs at least one input")
    var y = inputs[0]
    for x in inputs.dropFirst() {
      precondition(x.shape == y.shape, "MultiplyLayer: input shapes differ: \(inputs.map(\.shape))")
      y.scalars.withUnsafeMutableBufferPointer { a in
        x.scalars.withUnsafeBufferPointer { b in
          for i in 0..<a.count { a[i] *= b[i] }
        }
      }
    }
    let needGrad = context.needsBackward && context.inputsNeedGradient
    let cache = Cache(
      inputs: needGrad ? inputs : [], inputCount: inputs.count, inputsNeedGradient: needGrad)
    return (y, cache)
  }

  // MARK: Backward

  /// `dx_i = dy ⊙ Π_{j≠i} x_j`.
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else {
      return [Tensor](repeating: Tensor(shape: []), count: cache.inputCount)
    }
    let xs = cache.inputs
    return xs.indices.map { i in
      var dx = gradOutput
      precondition(
        dx.shape == xs[i].shape,
        "MultiplyLayer.backward: gradient \(dx.shape) ≠ input \(xs[i].shape)")
      for j in xs.indices where j != i {
        dx.scalars.withUnsafeMutableBufferPointer { a in
          xs[j].scalars.withUnsafeBufferPointer { b in
            for e in 0..<a.count { a[e] *= b[e] }
          }
        }
      }
      return dx
    }
  }
}
