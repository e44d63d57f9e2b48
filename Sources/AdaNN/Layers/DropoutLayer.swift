import AdaTensor

/// Inverted dropout (Keras `Dropout`): in training each element is kept with probability
/// `1 − rate` and scaled by `1 / (1 − rate)`, so the expected output equals the input; at
/// inference it is the identity. Shape-preserving, no parameters.
///
/// The mask is drawn from `context.rng` (one uniform draw per element, in row-major order, kept
/// when the draw is ≥ `rate`), so the same seed gives the same mask. With `noiseShape` one draw
/// covers every axis where it is 1: `[1, 1, 1]` on `[N, H, W, C]` (EfficientNet's stochastic
/// depth) keeps or drops each example whole, with N draws.
public struct DropoutLayer: Layer {
  public var spec: DropoutSpec

  public init(spec: DropoutSpec) { self.spec = spec }

  public struct Cache: Sendable {
    /// Per element `0` (dropped) or `1 / (1 − rate)` (kept), shaped like the input;
    /// `nil` when the forward pass was the identity.
    var mask: [Float]?
    var inputsNeedGradient: Bool
  }

  // MARK: Shape contract

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard inputs.count == 1 else {
      throw AdaError(.badShape, "dropout takes one input, found \(inputs.count)")
    }
    guard spec.rate >= 0 && spec.rate < 1 else {
      throw AdaError(.invalidValue, "dropout rate must be in [0, 1), found \(spec.rate)")
    }
    if let noise = spec.noiseShape {
      guard noise.count == inputs[0].count,
        zip(noise, inputs[0]).allSatisfy({ $0 == -1 || $0 == 1 || $0 == $1 })
      else {
        throw AdaError(
          .badShape,
          "dropout noise shape \(noise) does not fit input \(inputs[0]) (each entry 1, −1 or the axis size)")
      }
    }
    return inputs[0]
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { [] }

  // MARK: Forward

  /// - Parameter inputs: one tensor `[N, …]`.
  /// - Returns: `x ⊙ mask` in training (mask drawn from `context.rng`), `x` otherwise.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(inputs.count == 1, "DropoutLayer: expects exactly one input")
    precondition(spec.rate >= 0 && spec.rate < 1, "DropoutLayer: rate \(spec.rate) not in [0, 1)")
    let needGrad = context.needsBackward && context.inputsNeedGradient
    guard context.training && spec.rate > 0 else {
      return (inputs[0], Cache(mask: nil, inputsNeedGradient: needGrad))
    }
    var y = inputs[0]
    let keepScale = 1 / (1 - spec.rate)
    // One draw per element of the noise shape [N, …] (1 on shared axes), then broadcast.
    let noise =
      [y.shape[0]]
      + zip(spec.noiseShape ?? y.shape.dropFirst().map { _ in -1 }, y.shape.dropFirst())
      .map { $0 == 1 ? 1 : $1 }
    var draws = Tensor(shape: noise)
    draws.scalars.withUnsafeMutableBufferPointer { m in
      for i in 0..<m.count where context.rng.nextUniform() >= spec.rate { m[i] = keepScale }
    }
    let mask = Broadcast.expand(draws, to: y.shape).scalars
    y.scalars.withUnsafeMutableBufferPointer { p in
      for i in 0..<p.count { p[i] *= mask[i] }
    }
    return (y, Cache(mask: context.needsBackward ? mask : nil, inputsNeedGradient: needGrad))
  }

  // MARK: Backward

  /// `dx = dy ⊙ mask` (the same mask as forward), or `dy` when forward was the identity.
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }
    guard let mask = cache.mask else { return [gradOutput] }
    precondition(mask.count == gradOutput.count, "DropoutLayer.backward: gradient shape changed")
    var dx = gradOutput
    dx.scalars.withUnsafeMutableBufferPointer { g in
      for i in 0..<g.count { g[i] *= mask[i] }
    }
    return [dx]
  }
}
