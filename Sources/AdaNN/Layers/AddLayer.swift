import AdaTensor

/// Keras `Add`: the elementwise sum of n ≥ 1 inputs whose per-example shapes broadcast
/// (`Broadcast`: equal sizes or 1 on each axis, shorter shapes aligned at the last axis).
/// `[N, …] × n → [N, …broadcast]`, e.g. `[N, H, W, C] + [N, 1, 1, C] → [N, H, W, C]`.
/// No parameters.
///
/// Backward hands `dy` to every input, summed over the axes that input broadcasts.
public struct AddLayer: Layer {
  public init() {}

  public struct Cache: Sendable {
    /// Each input's shape (batch included), for reducing the gradient.
    var inputShapes: [[Int]]
    var inputsNeedGradient: Bool
  }

  // MARK: Shape contract

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    try Broadcast.shape(inputs, layer: "add")
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { [] }

  // MARK: Forward

  /// - Parameter inputs: n tensors `[N, …]` with broadcastable per-example shapes.
  /// - Returns: `Σ inputs`, in the broadcast shape.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(!inputs.isEmpty, "AddLayer: needs at least one input")
    let shapes = inputs.map(\.shape)
    let out = Broadcast.batchedShape(shapes, layer: "AddLayer")
    var y = Broadcast.expand(inputs[0], to: out)
    for x in inputs.dropFirst() {
      if x.shape == out { y.add(x) } else { Broadcast.combine(&y, with: x, multiply: false) }
    }
    let cache = Cache(
      inputShapes: shapes, inputsNeedGradient: context.needsBackward && context.inputsNeedGradient)
    return (y, cache)
  }

  // MARK: Backward

  /// `dx_i = dy`, summed over the axes input i broadcasts.
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else {
      return [Tensor](repeating: Tensor(shape: []), count: cache.inputShapes.count)
    }
    return cache.inputShapes.map { Broadcast.reduce(gradOutput, to: $0) }
  }
}
