import AdaNN
import AdaTensor

/// `depthwise-separable`: Conv2D k×k (in → out) → DepthwiseConv2D k×k (multiplier 1, same
/// strides, padding and dilation; no bias, linear) then Conv2D 1×1 (original bias, activation).
///
/// Initialisation, per input channel `i`: the slice `K[:, :, i, :]` as a `[kh·kw, out]` matrix
/// is approximated by its best rank-1 term `σ u vᵀ`, giving `depthwise[:, :, i, 0] = √σ·u` and
/// `pointwise[0, 0, i, :] = √σ·v`. A kernel that already factors as
/// `K[a, b, i, o] = d[a, b, i] · p[i, o]` is reproduced exactly:
/// `Σᵢ Σₐᵦ x[a, b, i] K[a, b, i, o] = Σᵢ (Σₐᵦ x[a, b, i] d[a, b, i]) p[i, o]`.
///
/// The pointwise node keeps the original name; the depthwise one is `<name>_depthwise`. Layers
/// where the pair would not have fewer weights (`kh·kw·in + in·out ≥ kh·kw·in·out`, e.g. 1×1
/// convolutions) are not eligible.
public struct DepthwiseSeparable: CompressionOperator, Codable, Hashable {
  public static let id = "depthwise-separable"

  public init() {}

  public var description: String { Self.id }

  public func isEligible(_ node: Node, in model: Model) -> Bool {
    ineligibilityReason(node, in: model) == nil
  }

  public func ineligibilityReason(_ node: Node, in model: Model) -> String? {
    guard case .conv2D(let s) = node.spec, let shape = model.parameters[node.name, "kernel"]?.shape
    else { return "depthwise-separable rewrites conv2d layers" }
    let (taps, input, output) = (s.kernel.h * s.kernel.w, shape[2], shape[3])
    if taps * input + input * output >= taps * input * output {
      return "a \(s.kernel) convolution \(input) → \(output) would not get smaller"
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
      factors = try Self.rankOneFactors(kernel)
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
      depthMultiplier: 1, useBias: false)
    let pointwise = Conv2DSpec(
      filters: output, kernel: .square(1), useBias: s.useBias, activation: s.activation)
    rewriter.replace(
      name,
      withChain: [
        Node(name: first, spec: .depthwiseConv2D(depthwise), inputs: []),
        Node(name: name, spec: .conv2D(pointwise), inputs: []),
      ], parameters: p)
  }

  /// Per-input-channel rank-1 factors of a Conv2D kernel `[kh, kw, in, out]`:
  /// depthwise `[kh, kw, in, 1]` and pointwise `[1, 1, in, out]`.
  public static func rankOneFactors(
    _ kernel: Tensor
  ) throws(AdaError) -> (depthwise: Tensor, pointwise: Tensor) {
    precondition(kernel.rank == 4, "rankOneFactors: expects [kh, kw, in, out], got \(kernel.shape)")
    let (taps, input, output) = (kernel.shape[0] * kernel.shape[1], kernel.shape[2], kernel.shape[3])
    var depthwise = Tensor(shape: [kernel.shape[0], kernel.shape[1], input, 1])
    var pointwise = Tensor(shape: [1, 1, input, output])
    for i in 0..<input {
      // Legend: slice[t, o] = K[t / kw, t % kw, i, o] for tap t; flat K index (t·in + i)·out + o.
      var slice = Tensor(shape: [taps, output])
      for t in 0..<taps {
        for o in 0..<output { slice.scalars[t * output + o] = kernel.scalars[(t * input + i) * output + o] }
      }
      let svd = try SVD(of: slice).truncated(rank: 1)
      let root = svd.singularValues[0].squareRoot()
      for t in 0..<taps { depthwise.scalars[t * input + i] = root * svd.u.scalars[t] }
      for o in 0..<output { pointwise.scalars[i * output + o] = root * svd.vt.scalars[o] }
    }
    return (depthwise, pointwise)
  }
}
