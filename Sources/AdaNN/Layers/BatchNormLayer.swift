import AdaTensor

/// Keras `BatchNormalization` over the last (channel) axis, for inputs of any rank ≥ 2
/// (`[N, C]`, `[N, H, W, C]`, …). Statistics are taken over every axis but the last.
///
/// Parameters, in this order, each `[C]` (absent ones are omitted):
/// `gamma` (when `scale`), `beta` (when `center`), `movingMean`, `movingVariance` (non-trainable).
///
///     y = (x − mean) / √(var + ε) · γ + β
///       = x · a + b,   a = γ / √(var + ε),  b = β − mean · a      (the form we compute, as Keras)
///
/// - Inference: `mean`/`var` are the moving statistics; backward is the affine map's.
/// - Training (`context.training`): `mean`/`var` are the batch statistics, `var` the *biased*
///   variance (divide by M = N·H·W); the moving statistics are updated in `params`:
///   `moving = moving · momentum + batch · (1 − momentum)`; backward includes the gradient
///   through the batch statistics.
///
/// Verified against Keras 3 source (`keras/src/layers/normalization/batch_normalization.py`,
/// `call`, and `keras/src/backend/jax/nn.py`, `moments` / `batch_normalization`): training uses
/// `ops.moments`, which is `jnp.var` — the biased variance — both to normalise and to update
/// `moving_variance` (no Bessel correction, unlike the fused TensorFlow kernel behind Keras 2's
/// `fused=True`); the update is `moving · momentum + batch · (1 − momentum)`; `build` creates
/// gamma, beta, moving_mean, moving_variance in that order.
public struct BatchNormLayer: Layer {
  public var spec: BatchNormSpec

  public init(spec: BatchNormSpec) { self.spec = spec }

  public struct Cache: Sendable {
    /// `(x − mean) / √(var + ε)`, shaped like the input; empty when backward is not needed.
    var xHat: Tensor
    /// `1 / √(var + ε)` per channel, `[C]`.
    var invStd: [Float]
    /// Whether forward used batch statistics (backward then includes their gradient).
    var training: Bool
    var inputsNeedGradient: Bool
  }

  /// Positions of each parameter in `parameters(for:)` order.
  var gammaIndex: Int? { spec.scale ? 0 : nil }
  var betaIndex: Int? { spec.center ? (spec.scale ? 1 : 0) : nil }
  var movingMeanIndex: Int { (spec.scale ? 1 : 0) + (spec.center ? 1 : 0) }
  var movingVarianceIndex: Int { movingMeanIndex + 1 }

  // MARK: Shape contract

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard inputs.count == 1 else {
      throw AdaError(.badShape, "batch normalisation takes one input, found \(inputs.count)")
    }
    guard let c = inputs[0].last, c > 0 else {
      throw AdaError(
        .badShape, "batch normalisation needs a channel axis per example, found \(inputs[0])")
    }
    guard spec.epsilon > 0, spec.momentum >= 0, spec.momentum <= 1 else {
      throw AdaError(
        .invalidValue,
        "batch normalisation needs epsilon > 0 and momentum in [0, 1], "
          + "found \(spec.epsilon), \(spec.momentum)")
    }
    return inputs[0]
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] {
    let c = [inputs[0].last ?? 0]
    var specs: [ParameterSpec] = []
    if spec.scale { specs.append(ParameterSpec(name: "gamma", shape: c, initializer: .ones)) }
    if spec.center { specs.append(ParameterSpec(name: "beta", shape: c, initializer: .zeros)) }
    specs.append(ParameterSpec(name: "movingMean", shape: c, trainable: false, initializer: .zeros))
    specs.append(
      ParameterSpec(name: "movingVariance", shape: c, trainable: false, initializer: .ones))
    return specs
  }

  // MARK: Forward

  /// Per-channel mean and biased variance of `x` viewed as `[M, C]`, accumulated in Double
  /// (two passes: mean, then squared deviations).
  static func batchMoments(_ x: UnsafeBufferPointer<Float>, channels c: Int) -> ([Float], [Float]) {
    let m = x.count / c
    var sum = [Double](repeating: 0, count: c)
    for r in 0..<m { for ch in 0..<c { sum[ch] += Double(x[r * c + ch]) } }
    let mean = sum.map { $0 / Double(m) }
    var sq = [Double](repeating: 0, count: c)
    for r in 0..<m {
      for ch in 0..<c {
        let d = Double(x[r * c + ch]) - mean[ch]
        sq[ch] += d * d
      }
    }
    return (mean.map { Float($0) }, sq.map { Float($0 / Double(m)) })
  }

  /// - Parameter inputs: one tensor `[N, …, C]`.
  /// - Returns: the normalised tensor, same shape. In training, `params` gets new moving statistics.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(inputs.count == 1, "BatchNormLayer: expects exactly one input")
    let x = inputs[0]
    precondition(x.rank >= 2, "BatchNormLayer: expects [N, …, C], found \(x.shape)")
    let c = x.shape[x.rank - 1]
    precondition(
      params.count == movingVarianceIndex + 1 && params.allSatisfy { $0.shape == [c] },
      "BatchNormLayer: parameters must be \(movingVarianceIndex + 1) tensors of shape [\(c)]")

    var mean = params[movingMeanIndex].scalars
    var variance = params[movingVarianceIndex].scalars
    if context.training {
      (mean, variance) = x.scalars.withUnsafeBufferPointer { Self.batchMoments($0, channels: c) }
      let mom = spec.momentum
      for ch in 0..<c {
        params[movingMeanIndex].scalars[ch] =
          params[movingMeanIndex].scalars[ch] * mom + mean[ch] * (1 - mom)
        params[movingVarianceIndex].scalars[ch] =
          params[movingVarianceIndex].scalars[ch] * mom + variance[ch] * (1 - mom)
      }
    }
    let invStd = variance.map { 1 / ($0 + spec.epsilon).squareRoot() }
    let gamma = gammaIndex.map { params[$0].scalars } ?? [Float](repeating: 1, count: c)
    let beta = betaIndex.map { params[$0].scalars } ?? [Float](repeating: 0, count: c)
    let a = (0..<c).map { invStd[$0] * gamma[$0] }
    let b = (0..<c).map { beta[$0] - mean[$0] * a[$0] }

    var y = x
    var xHat = context.needsBackward ? x : Tensor(shape: [0])
    y.scalars.withUnsafeMutableBufferPointer { p in
      for r in stride(from: 0, to: p.count, by: c) {
        for ch in 0..<c { p[r + ch] = p[r + ch] * a[ch] + b[ch] }
      }
    }
    if context.needsBackward {
      xHat.scalars.withUnsafeMutableBufferPointer { p in
        for r in stride(from: 0, to: p.count, by: c) {
          for ch in 0..<c { p[r + ch] = (p[r + ch] - mean[ch]) * invStd[ch] }
        }
      }
    }
    let cache = Cache(
      xHat: xHat, invStd: invStd, training: context.training,
      inputsNeedGradient: context.needsBackward && context.inputsNeedGradient)
    return (y, cache)
  }

  // MARK: Backward

  /// With `g = dy`, sums over the M rows of each channel:
  ///
  ///     dγ += Σ g · x̂          dβ += Σ g
  ///     inference: dx = g · γ / √(var + ε)
  ///     training:  dx = γ / √(var + ε) / M · (M · g − Σ g − x̂ · Σ g · x̂)
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    let c = cache.invStd.count
    precondition(
      gradOutput.shape == cache.xHat.shape,
      "BatchNormLayer.backward: gradient \(gradOutput.shape) ≠ input \(cache.xHat.shape)")
    let m = gradOutput.count / c
    var sumG = [Double](repeating: 0, count: c)
    var sumGX = [Double](repeating: 0, count: c)
    gradOutput.scalars.withUnsafeBufferPointer { g in
      cache.xHat.scalars.withUnsafeBufferPointer { xh in
        for r in stride(from: 0, to: g.count, by: c) {
          for ch in 0..<c {
            sumG[ch] += Double(g[r + ch])
            sumGX[ch] += Double(g[r + ch] * xh[r + ch])
          }
        }
      }
    }
    if let gi = gammaIndex { for ch in 0..<c { paramGrads[gi].scalars[ch] += Float(sumGX[ch]) } }
    if let bi = betaIndex { for ch in 0..<c { paramGrads[bi].scalars[ch] += Float(sumG[ch]) } }
    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }

    let gamma = gammaIndex.map { params[$0].scalars } ?? [Float](repeating: 1, count: c)
    let k = (0..<c).map { gamma[$0] * cache.invStd[$0] }
    var dx = gradOutput
    dx.scalars.withUnsafeMutableBufferPointer { g in
      if !cache.training {
        for r in stride(from: 0, to: g.count, by: c) { for ch in 0..<c { g[r + ch] *= k[ch] } }
        return
      }
      let meanG = sumG.map { Float($0 / Double(m)) }
      let meanGX = sumGX.map { Float($0 / Double(m)) }
      cache.xHat.scalars.withUnsafeBufferPointer { xh in
        for r in stride(from: 0, to: g.count, by: c) {
          for ch in 0..<c {
            g[r + ch] = k[ch] * (g[r + ch] - meanG[ch] - xh[r + ch] * meanGX[ch])
          }
        }
      }
    }
    return [dx]
  }
}
