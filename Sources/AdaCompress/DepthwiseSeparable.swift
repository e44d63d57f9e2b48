import AdaNN
import AdaTensor

/// `depthwise-separable[:M]`: Conv2D k×k (in → out) → DepthwiseConv2D k×k (depth multiplier
/// `M`, default 1; same strides, padding and dilation; no bias, linear) then Conv2D 1×1
/// (in·M → out, original bias and activation).
///
/// Initialisation, per input channel `i`: the slice `K[:, :, i, :]` as a `[kh·kw, out]` matrix
/// is approximated by its best rank-`M` terms `Σⱼ σⱼ uⱼ vⱼᵀ`, giving
/// `depthwise[:, :, i, j] = √σⱼ·uⱼ` and `pointwise[0, 0, i·M + j, :] = √σⱼ·vⱼ` (Keras orders the
/// depthwise outputs `i·M + j`). A kernel whose slices have rank ≤ `M` is reproduced exactly;
/// for `M = 1` that is a kernel that factors as `K[a, b, i, o] = d[a, b, i] · p[i, o]`:
/// `Σᵢ Σₐᵦ x[a, b, i] K[a, b, i, o] = Σᵢ (Σₐᵦ x[a, b, i] d[a, b, i]) p[i, o]`.
///
/// `M > 1` is for convolutions with few input channels, above all a stem on a grey image
/// (`in = 1`): with `M = 1` every output channel there is a multiple of one filtered image.
///
/// The pointwise node keeps the original name; the depthwise one is `<name>_depthwise`. Layers
/// where the pair would not have fewer weights (`kh·kw·in·M + in·M·out ≥ kh·kw·in·out`, e.g. 1×1
/// convolutions) or where `M > min(kh·kw, out)` (the slices have no more terms) are not
/// eligible.
public struct DepthwiseSeparable: CompressionOperator, Codable, Hashable {
  public static let id = "depthwise-separable"

  /// Depthwise filters per input channel (the rank of each channel's factorisation), ≥ 1.
  public var multiplier: Int

  public init(multiplier: Int = 1) {
    precondition(multiplier >= 1, "DepthwiseSeparable: multiplier \(multiplier) < 1")
    self.multiplier = multiplier
  }

  public var description: String { multiplier == 1 ? Self.id : "\(Self.id):\(multiplier)" }

  public func isEligible(_ node: Node, in model: Model) -> Bool {
    ineligibilityReason(node, in: model) == nil
  }

  public func ineligibilityReason(_ node: Node, in model: Model) -> String? {
    guard case .conv2D(let s) = node.spec, let shape = model.parameters[node.name, "kernel"]?.shape
    else { return "depthwise-separable rewrites conv2d layers" }
    let (taps, input, output, m) = (s.kernel.h * s.kernel.w, shape[2], shape[3], multiplier)
    if m > min(taps, output) {
      return "multiplier \(m) exceeds min(\(taps) taps, \(output) filters), the terms a channel has"
    }
    if taps * input * m + input * m * output >= taps * input * output {
      let pair = m == 1 ? "" : " with multiplier \(m)"
      return "a \(s.kernel) convolution \(input) → \(output) would not get smaller\(pair)"
    }
    return nil
  }

  public func apply(
    to model: Model, selecting selection: LayerSelection
  ) throws(AdaError) -> CompressionResult {
    var rewriter = GraphRewriter(model)
    for name in try selectedNodes(in: model, selection) {
      try separate(model.graph.node(named: name)!, in: &rewriter)
    }
    return try rewriter.result(operation: description)
  }

  func separate(_ node: Node, in rewriter: inout GraphRewriter) throws(AdaError) {
    guard case .conv2D(let s) = node.spec else {
      preconditionFailure("DepthwiseSeparable.separate: \(node.name) is not conv2d")
    }
    let name = node.name
    let kernel = rewriter.parameters[name, "kernel"]!  // [kh, kw, in, out]
    let output = kernel.shape[3]
    let factors: (depthwise: Tensor, pointwise: Tensor)
    do {
      factors = try Self.factors(kernel, multiplier: multiplier)
    } catch {
      throw error.at(name)
    }
    let first = rewriter.uniqueName("\(name)_depthwise")
    var p = Parameters()
    p[first, "kernel"] = factors.depthwise
    p[name, "kernel"] = factors.pointwise
    if let bias = rewriter.parameters[name, "bias"] { p[name, "bias"] = bias }
    let depthwise = DepthwiseConv2DSpec(
      kernel: s.kernel, strides: s.strides, padding: s.padding, dilation: s.dilation,
      depthMultiplier: multiplier, useBias: false)
    let pointwise = Conv2DSpec(
      filters: output, kernel: .square(1), useBias: s.useBias, activation: s.activation)
    rewriter.replace(
      name,
      withChain: [
        Node(name: first, spec: .depthwiseConv2D(depthwise), inputs: []),
        Node(name: name, spec: .conv2D(pointwise), inputs: []),
      ], parameters: p)
  }

  /// Per-input-channel rank-`multiplier` factors of a Conv2D kernel `[kh, kw, in, out]`:
  /// depthwise `[kh, kw, in, M]` and pointwise `[1, 1, in·M, out]`. Requires
  /// `M ≤ min(kh·kw, out)`.
  public static func factors(
    _ kernel: Tensor, multiplier m: Int = 1
  ) throws(AdaError) -> (depthwise: Tensor, pointwise: Tensor) {
    precondition(kernel.rank == 4, "factors: expects [kh, kw, in, out], got \(kernel.shape)")
    let (taps, input, output) = (kernel.shape[0] * kernel.shape[1], kernel.shape[2], kernel.shape[3])
    precondition(m >= 1 && m <= min(taps, output), "factors: multiplier \(m) for \(kernel.shape)")
    var depthwise = Tensor(shape: [kernel.shape[0], kernel.shape[1], input, m])
    var pointwise = Tensor(shape: [1, 1, input * m, output])
    for i in 0..<input {
      // Legend: slice[t, o] = K[t / kw, t % kw, i, o] for tap t; flat K index (t·in + i)·out + o.
      var slice = Tensor(shape: [taps, output])
      for t in 0..<taps {
        for o in 0..<output { slice.scalars[t * output + o] = kernel.scalars[(t * input + i) * output + o] }
      }
      let svd = try SVD(of: slice).truncated(rank: m)  // u [taps, m], vt [m, output]
      for j in 0..<m {
        let root = svd.singularValues[j].squareRoot()
        for t in 0..<taps { depthwise.scalars[(t * input + i) * m + j] = root * svd.u.scalars[t * m + j] }
        for o in 0..<output {
          pointwise.scalars[(i * m + j) * output + o] = root * svd.vt.scalars[j * output + o]
        }
      }
    }
    return (depthwise, pointwise)
  }
}
