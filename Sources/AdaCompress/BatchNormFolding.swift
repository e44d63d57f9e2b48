import AdaNN
import AdaTensor

/// `fold-batch-norm`: merges an inference-mode batch-norm into the Conv2D, Dense or
/// DepthwiseConv2D layer it follows. Outputs are unchanged (in inference mode); the model loses
/// the batch-norm's 2–4 vectors and one pass over the activations.
///
/// With `a = γ / √(var + ε)` and `b = β − mean · a` per channel (γ = 1, β = 0 when absent):
///
///     BN(W x + c) = (W x + c) · a + b = (W · a) x + (c · a + b)
///
/// so the kernel's output channel `k` is scaled by `a[k]` and the bias becomes `c · a + b`.
/// For a depthwise kernel `[kh, kw, in, m]` the output channel of element `(·, ·, i, j)` is
/// `i·m + j`, which is again the flat index modulo `in·m`.
///
/// Eligible: a layer with a linear activation whose only consumer is a batch-norm and which is
/// not itself a model output. The batch-norm disappears; if it was a model output, the folded
/// layer takes its name, so the model's output names are unchanged.
public struct BatchNormFolding: CompressionOperator, Codable, Hashable {
  public static let id = "fold-batch-norm"

  public init() {}

  public var description: String { Self.id }

  public func isEligible(_ node: Node, in model: Model) -> Bool {
    ineligibilityReason(node, in: model) == nil
  }

  public func ineligibilityReason(_ node: Node, in model: Model) -> String? {
    let activation: Activation
    switch node.spec {
    case .conv2D(let s): activation = s.activation
    case .dense(let s): activation = s.activation
    case .depthwiseConv2D(let s): activation = s.activation
    default: return "fold-batch-norm folds into conv2d, dense and depthwise-conv2d layers"
    }
    let consumers = model.graph.consumers[node.name] ?? []
    guard consumers.count == 1, let bn = model.graph.node(named: consumers[0]),
      case .batchNorm = bn.spec
    else { return "its only consumer is not a batch-norm" }
    if activation != .linear { return "its \(activation) activation sits between it and the batch-norm" }
    if model.graph.outputs.contains(node.name) { return "it is a model output" }
    return nil
  }

  public func apply(
    to model: Model, selecting selection: LayerSelection
  ) throws(AdaError) -> CompressionResult {
    var rewriter = GraphRewriter(model)
    for name in try selectedNodes(in: model, selection) {
      fold(name, into: &rewriter)
    }
    return try rewriter.result(operation: description)
  }

  func fold(_ name: String, into rewriter: inout GraphRewriter) {
    let bnName = rewriter.consumers(of: name)[0]
    guard case .batchNorm(let bn) = rewriter.node(bnName)!.spec else {
      preconditionFailure("BatchNormFolding.fold: \(bnName) is not a batch-norm")
    }
    let (a, b) = Self.affine(bn, rewriter.parameters, node: bnName)
    let c = a.count
    var kernel = rewriter.parameters[name, "kernel"]!
    precondition(kernel.count % c == 0, "BatchNormFolding: kernel \(kernel.shape) vs \(c) channels")
    for i in 0..<kernel.count { kernel.scalars[i] *= a[i % c] }
    let oldBias = rewriter.parameters[name, "bias"]?.scalars ?? [Float](repeating: 0, count: c)
    let bias = Tensor(shape: [c], scalars: (0..<c).map { oldBias[$0] * a[$0] + b[$0] })
    var spec = rewriter.node(name)!.spec
    switch spec {
    case .conv2D(var s):
      s.useBias = true
      spec = .conv2D(s)
    case .dense(var s):
      s.useBias = true
      spec = .dense(s)
    case .depthwiseConv2D(var s):
      s.useBias = true
      spec = .depthwiseConv2D(s)
    default:
      preconditionFailure("BatchNormFolding.fold: \(name) cannot absorb a batch-norm")
    }
    rewriter.setSpec(name, spec)
    rewriter.setParameter(name, "kernel", kernel)
    rewriter.setParameter(name, "bias", bias)
    let wasOutput = rewriter.isOutput(bnName)
    rewriter.bypass(bnName)
    if wasOutput { rewriter.rename(name, to: bnName) }
  }

  /// Per-channel `(a, b)` with `BN(x) = x · a + b` in inference mode, computed in Double.
  public static func affine(_ spec: BatchNormSpec, _ p: Parameters, node: String) -> ([Float], [Float]) {
    let mean = p[node, "movingMean"]!.scalars
    let variance = p[node, "movingVariance"]!.scalars
    let gamma = spec.scale ? p[node, "gamma"]!.scalars : [Float](repeating: 1, count: mean.count)
    let beta = spec.center ? p[node, "beta"]!.scalars : [Float](repeating: 0, count: mean.count)
    var a = [Float](repeating: 0, count: mean.count)
    var b = a
    for k in mean.indices {
      let scale = Double(gamma[k]) / (Double(variance[k]) + Double(spec.epsilon)).squareRoot()
      a[k] = Float(scale)
      b[k] = Float(Double(beta[k]) - Double(mean[k]) * scale)
    }
    return (a, b)
  }
}
