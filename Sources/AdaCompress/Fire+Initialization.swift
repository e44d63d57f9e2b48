import AdaNN
import AdaTensor

/// Weights of a Fire module (see `Fire`), before distillation.
public struct FireWeights: Sendable {
  /// `[1, 1, in, s]`
  public var squeezeKernel: Tensor
  /// `[s]`, zeros.
  public var squeezeBias: Tensor
  /// `[1, 1, s, out/2]`
  public var expand1Kernel: Tensor
  /// `[3, 3, s, out − out/2]`
  public var expand3Kernel: Tensor
  /// `[out/2]` and `[out − out/2]`: the original bias split; nil when the layer had none.
  public var expand1Bias: Tensor?
  public var expand3Bias: Tensor?

  func parameters(_ names: FireNames) -> Parameters {
    var p = Parameters()
    p[names.squeeze, "kernel"] = squeezeKernel
    p[names.squeeze, "bias"] = squeezeBias
    p[names.expand1, "kernel"] = expand1Kernel
    p[names.expand3, "kernel"] = expand3Kernel
    p[names.expand1, "bias"] = expand1Bias
    p[names.expand3, "bias"] = expand3Bias
    return p
  }
}

extension Fire {
  /// Initial Fire weights from the 3×3 kernel they replace, by an SVD of the kernel's input side.
  ///
  /// Legend: `W` `[3, 3, in, out]` is the kernel, `t` a tap (`kh·3 + kw`), `M` `[in, 9·out]` with
  /// `M[i, (t, o)] = W[t, i, o]`, `M = U Σ Vᵀ` its SVD (`U` `[in, k]`, `k = min(in, 9·out)`).
  ///
  /// 1. The squeeze projects the input onto the top `p = min(⌊s/2⌋, k)` left singular vectors,
  ///    each as a *sign pair* of filters `+u_j`, `−u_j`: `relu(u·x) − relu(−u·x) = u·x`, so the
  ///    projection passes the squeeze's relu unharmed.
  /// 2. The projected kernel `K[t, j, o] = Σ_i U[i, j] · W[t, i, o]` goes into the expand 3×3
  ///    (filter `2j` gets `+K`, filter `2j+1` gets `−K`) for channels `[out/2, out)`: those
  ///    channels compute the convolution with `U_p U_pᵀ W`, the best rank-`p` approximation of
  ///    the kernel's input side, and are exact when `rank(M) ≤ p` (e.g. `s ≥ 2·in`).
  /// 3. The expand 1×1 can only be a 1×1 kernel: channels `[0, out/2)` get `Σ_t K[t, j, o]`, the
  ///    taps summed, which is exact where the input is locally constant and a starting point
  ///    elsewhere.
  /// 4. Squeeze filters left over (an odd one, or more than `2k`) get seeded He-normal weights
  ///    and zero expand weights: they change nothing now and give distillation room to work.
  ///
  /// Biases: squeeze 0; the original bias is split between the expands.
  ///
  /// - Throws: `AdaError(.internalError)` when the SVD does not converge.
  public static func initialWeights(
    kernel w: Tensor, bias: Tensor?, squeezeFilters s: Int, seed: UInt64
  ) throws(AdaError) -> FireWeights {
    precondition(
      w.rank == 4 && w.shape[0] == 3 && w.shape[1] == 3, "Fire.initialWeights: kernel \(w.shape) is not 3x3")
    let (cin, out) = (w.shape[2], w.shape[3])
    let e1 = out / 2
    let e3 = out - e1
    precondition(s >= 1 && e1 >= 1, "Fire.initialWeights: needs s ≥ 1 and out ≥ 2")
    // M [in, 9·out]
    var m = [Float](repeating: 0, count: cin * 9 * out)
    for t in 0..<9 {
      for i in 0..<cin {
        for o in 0..<out { m[i * 9 * out + t * out + o] = w.scalars[(t * cin + i) * out + o] }
      }
    }
    let svd = try SVD(of: Tensor(shape: [cin, 9 * out], scalars: m))
    let k = svd.rank
    let p = min(s / 2, k)
    // K [9, p, out]
    var proj = [Float](repeating: 0, count: 9 * p * out)
    for t in 0..<9 {
      for j in 0..<p {
        for o in 0..<out {
          var acc: Float = 0
          for i in 0..<cin { acc += svd.u.scalars[i * k + j] * w.scalars[(t * cin + i) * out + o] }
          proj[(t * p + j) * out + o] = acc
        }
      }
    }
    var squeeze = [Float](repeating: 0, count: cin * s)
    var g = SeededGenerator(seed: seed)
    let std = (2 / Float(cin)).squareRoot()
    for i in 0..<cin {
      for f in 0..<s {
        let j = f / 2
        squeeze[i * s + f] =
          f < 2 * p ? (f % 2 == 0 ? 1 : -1) * svd.u.scalars[i * k + j] : std * g.nextNormal()
      }
    }
    var expand3 = [Float](repeating: 0, count: 9 * s * e3)
    var expand1 = [Float](repeating: 0, count: s * e1)
    for f in 0..<(2 * p) {
      let (j, sign): (Int, Float) = (f / 2, f % 2 == 0 ? 1 : -1)
      for t in 0..<9 {
        for o in 0..<e3 { expand3[(t * s + f) * e3 + o] = sign * proj[(t * p + j) * out + e1 + o] }
        for o in 0..<e1 { expand1[f * e1 + o] += sign * proj[(t * p + j) * out + o] }
      }
    }
    return FireWeights(
      squeezeKernel: Tensor(shape: [1, 1, cin, s], scalars: squeeze), squeezeBias: Tensor(shape: [s]),
      expand1Kernel: Tensor(shape: [1, 1, s, e1], scalars: expand1),
      expand3Kernel: Tensor(shape: [3, 3, s, e3], scalars: expand3),
      expand1Bias: bias.map { Tensor(shape: [e1], scalars: Array($0.scalars[0..<e1])) },
      expand3Bias: bias.map { Tensor(shape: [e3], scalars: Array($0.scalars[e1..<out])) })
  }
}
