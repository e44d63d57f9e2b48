import AdaTensor

/// A standalone activation (`LayerSpec.activation`, and `LayerSpec.softmax` as `.softmax`):
/// `y = f(x)` elementwise, or softmax over the last axis. Shape-preserving, no parameters.
///
///     let layer = ActivationLayer(activation: .relu6)
///     // x: [N, H, W, C] → y: [N, H, W, C]
///
/// The functions and their derivatives live in `Activation`; this file only wires them into the
/// `Layer` contract and decides what forward saves for backward.
public struct ActivationLayer: Layer {
  public var activation: Activation

  public init(activation: Activation) { self.activation = activation }

  /// What backward needs: the output always, the input only when the derivative is a function
  /// of `x` rather than of `y` (swish, gelu, …).
  public struct Cache: Sendable {
    /// Pre-activation input, or `nil` when `activation.backwardNeedsInput` is false. Same shape as `y`.
    var x: Tensor?
    /// Output `f(x)`.
    var y: Tensor
    /// False when the input is the graph input: backward then returns an empty gradient.
    var inputsNeedGradient: Bool
  }

  // MARK: Shape contract

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard inputs.count == 1 else {
      throw AdaError(.badShape, "activation takes one input, found \(inputs.count)")
    }
    if activation == .softmax && inputs[0].isEmpty {
      throw AdaError(.badShape, "softmax needs at least one axis per example, found shape []")
    }
    return inputs[0]
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { [] }

  // MARK: Forward

  /// - Parameter inputs: one tensor of any shape `[N, …]`.
  /// - Returns: `f(x)`, same shape.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(inputs.count == 1, "ActivationLayer: expects exactly one input")
    let x = inputs[0]
    let y = activation.apply(x)
    guard context.needsBackward else {
      return (y, Cache(x: nil, y: Tensor(shape: [0]), inputsNeedGradient: false))
    }
    let savedX = activation.backwardNeedsInput ? x : nil
    return (y, Cache(x: savedX, y: y, inputsNeedGradient: context.inputsNeedGradient))
  }

  // MARK: Backward

  /// `dx = dy ⊙ f'(x)` (softmax: `dx = y ⊙ (dy − Σ dy ⊙ y)` per row).
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }
    precondition(
      gradOutput.shape == cache.y.shape,
      "ActivationLayer.backward: gradient \(gradOutput.shape) ≠ output \(cache.y.shape)")
    return [activation.backward(dy: gradOutput, x: cache.x, y: cache.y)]
  }
}
