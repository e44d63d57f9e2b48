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
    /// The input `[N, …, C]` (shared with whoever produced it, not copied); `x̂` is recomputed
    /// from it in backward. Empty when backward is not needed.
    var x: Tensor
    /// The mean forward normalised with (batch or moving), `[C]`.
    var mean: [Float]
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
    let m = x.count / c

    var mean = params[movingMeanIndex].scalars
    var variance = params[movingVarianceIndex].scalars
    if context.training {
      precondition(m > 0, "BatchNormLayer: batch statistics of an empty batch \(x.shape)")
      (mean, variance) = x.scalars.withUnsafeBufferPointer {
        BatchNormKernels.moments($0.baseAddress!, rows: m, channels: c)
      }
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

    let y = [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
      x.scalars.withUnsafeBufferPointer { xp in
        if m > 0 {
          BatchNormKernels.affine(
            xp.baseAddress!, scale: a, shift: b, rows: m, channels: c, into: out.baseAddress!)
        }
      }
      initialized = x.count
    }
    let cache = Cache(
      x: context.needsBackward ? x : Tensor(shape: [0]), mean: mean, invStd: invStd,
      training: context.training,
      inputsNeedGradient: context.needsBackward && context.inputsNeedGradient)
    return (Tensor(shape: x.shape, scalars: y), cache)
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
      gradOutput.shape == cache.x.shape,
      "BatchNormLayer.backward: gradient \(gradOutput.shape) ≠ input \(cache.x.shape)")
    let m = gradOutput.count / c
    // Σ g·x̂ = invStd · Σ g·(x − mean).
    let (sumG, sumGXc) = gradOutput.scalars.withUnsafeBufferPointer { g in
      cache.x.scalars.withUnsafeBufferPointer { x in
        m == 0
          ? ([Double](repeating: 0, count: c), [Double](repeating: 0, count: c))
          : BatchNormKernels.gradientSums(
            g.baseAddress!, x.baseAddress!, mean: cache.mean, rows: m, channels: c)
      }
    }
    let sumGX = (0..<c).map { sumGXc[$0] * Double(cache.invStd[$0]) }
    if let gi = gammaIndex { for ch in 0..<c { paramGrads[gi].scalars[ch] += Float(sumGX[ch]) } }
    if let bi = betaIndex { for ch in 0..<c { paramGrads[bi].scalars[ch] += Float(sumG[ch]) } }
    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }

    let gamma = gammaIndex.map { params[$0].scalars } ?? [Float](repeating: 1, count: c)
    let k = (0..<c).map { gamma[$0] * cache.invStd[$0] }
    let zeros = [Float](repeating: 0, count: c)
    // Inference: dx = g · k (the affine map's gradient), the same kernel with no mean terms.
    let meanG = cache.training ? sumG.map { Float($0 / Double(m)) } : zeros
    let meanGX = cache.training ? sumGX.map { Float($0 / Double(m)) } : zeros
    let dx = [Float](unsafeUninitializedCapacity: gradOutput.count) { out, initialized in
      gradOutput.scalars.withUnsafeBufferPointer { g in
        cache.x.scalars.withUnsafeBufferPointer { x in
          if m > 0 {
            BatchNormKernels.trainingInputGradient(
              g.baseAddress!, x.baseAddress!, mean: cache.mean, invStd: cache.invStd, k: k,
              meanG: meanG, meanGX: meanGX, rows: m, channels: c, into: out.baseAddress!)
          }
        }
      }
      initialized = gradOutput.count
    }
    return [Tensor(shape: gradOutput.shape, scalars: dx)]
  }
}
