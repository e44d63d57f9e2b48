import AdaTensor

/// Keras `Multiply`: the elementwise product of n ≥ 1 inputs whose per-example shapes broadcast
/// (`Broadcast`), e.g. the squeeze-excite gate `[N, H, W, C] ⊙ [N, 1, 1, C] → [N, H, W, C]`.
/// No parameters.
///
/// Backward: `dx_i = reduce_i(dy ⊙ Π_{j≠i} x_j)`, the product of the other inputs (not the
/// output divided by `x_i`, so zeros are handled exactly), summed over the axes input i
/// broadcasts.
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
    try Broadcast.shape(inputs, layer: "multiply")
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { [] }

  // MARK: Forward

  /// - Parameter inputs: n tensors `[N, …]` with broadcastable per-example shapes.
  /// - Returns: `Π inputs`, in the broadcast shape.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(!inputs.isEmpty, "MultiplyLayer: needs at least one input")
    let out = Broadcast.batchedShape(inputs.map(\.shape), layer: "MultiplyLayer")
    var y = Broadcast.expand(inputs[0], to: out)
    for x in inputs.dropFirst() {
      if x.shape == out {
        y.scalars.withUnsafeMutableBufferPointer { a in
          x.scalars.withUnsafeBufferPointer { b in
            for i in 0..<a.count { a[i] *= b[i] }
          }
        }
      } else {
        Broadcast.combine(&y, with: x, multiply: true)
      }
    }
    let needGrad = context.needsBackward && context.inputsNeedGradient
    let cache = Cache(
      inputs: needGrad ? inputs : [], inputCount: inputs.count, inputsNeedGradient: needGrad)
    return (y, cache)
  }

  // MARK: Backward

  /// `dx_i = reduce_i(dy ⊙ Π_{j≠i} x_j)`.
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else {
      return [Tensor](repeating: Tensor(shape: []), count: cache.inputCount)
    }
    let xs = cache.inputs
    return xs.indices.map { i in
      var t = gradOutput
      for j in xs.indices where j != i {
        Broadcast.combine(&t, with: xs[j], multiply: true)
      }
      return Broadcast.reduce(t, to: xs[i].shape)
    }
  }
}
