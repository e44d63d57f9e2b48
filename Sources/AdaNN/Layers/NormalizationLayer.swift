import AdaTensor

/// Keras `Normalization` with stored statistics, over the last (channel) axis:
/// `y = (x − mean_c) / max(√variance_c, ε)`, or with `invert` `y = mean_c + x · max(√variance_c, ε)`,
/// ε = `NormalizationSpec.epsilon` (1e-7, Keras's `backend.epsilon()`).
///
/// `[N, …, C] → [N, …, C]`. Parameters `mean` and `variance`, `[C]` each, are statistics of the
/// training data (Keras `adapt`), not trainable: training leaves them unchanged and backward adds
/// nothing to their gradients. EfficientNet starts with `Rescaling(1/255)` then this layer.
public struct NormalizationLayer: Layer {
  public var spec: NormalizationSpec

  public init(spec: NormalizationSpec) { self.spec = spec }

  public struct Cache: Sendable {
    /// Per-channel factor `dy/dx` (`1 / σ_c`, or `σ_c` with `invert`); empty when not needed.
    var factor: [Float]
    var inputsNeedGradient: Bool
  }

  // MARK: Shape contract

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard inputs.count == 1, let c = inputs[0].last else {
      throw AdaError(.badShape, "normalization takes one input with a channel axis, found \(inputs)")
    }
    guard c > 0 else { throw AdaError(.badShape, "normalization needs channels, found \(inputs[0])") }
    return inputs[0]
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] {
    let c = inputs[0].last ?? 0
    return [
      ParameterSpec(name: "mean", shape: [c], trainable: false, initializer: .zeros),
      ParameterSpec(name: "variance", shape: [c], trainable: false, initializer: .ones),
    ]
  }

  /// `σ_c = max(√variance_c, ε)`.
  static func deviations(_ variance: Tensor) -> [Float] {
    variance.scalars.map { max($0.squareRoot(), NormalizationSpec.epsilon) }
  }

  // MARK: Forward

  /// - Parameters:
  ///   - inputs: one tensor `[N, …, C]`.
  ///   - params: `mean [C]`, `variance [C]`.
  /// - Returns: the normalised (or, with `invert`, de-normalised) tensor, same shape.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(inputs.count == 1, "NormalizationLayer: expects exactly one input")
    let c = inputs[0].shape.last ?? 0
    precondition(
      params.count == 2 && params[0].count == c && params[1].count == c,
      "NormalizationLayer: mean and variance must be [\(c)], found \(params.map(\.shape))")
    let sigma = Self.deviations(params[1])
    let mean = params[0].scalars
    // y = x · a_c + b_c
    let a = spec.invert ? sigma : sigma.map { 1 / $0 }
    let b = spec.invert ? mean : zip(mean, a).map { -$0 * $1 }
    var y = inputs[0]
    y.scalars.withUnsafeMutableBufferPointer { p in
      var i = 0
      while i < p.count {
        for k in 0..<c { p[i + k] = p[i + k] * a[k] + b[k] }
        i += c
      }
    }
    let needGrad = context.needsBackward && context.inputsNeedGradient
    return (y, Cache(factor: needGrad ? a : [], inputsNeedGradient: needGrad))
  }

  // MARK: Backward

  /// `dx = dy · a_c` with `a_c = 1 / σ_c` (or `σ_c` with `invert`); no parameter gradients.
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }
    let a = cache.factor
    let c = a.count
    var dx = gradOutput
    dx.scalars.withUnsafeMutableBufferPointer { p in
      var i = 0
      while i < p.count {
        for k in 0..<c { p[i + k] *= a[k] }
        i += c
      }
    }
    return [dx]
  }
}
