import AdaNN
import AdaTensor

/// `fire:<squeeze ratio>` — replaces a 3×3 convolution by a SqueezeNet Fire module
/// (Iandola et al., 2016):
///
///     x ─ squeeze 1×1 (s filters, relu) ─┬─ expand 1×1 (out/2)        ─┐
///                                         └─ expand 3×3 (out − out/2)  ─┴─ concatenate → [H, W, out]
///
/// with `s = max(1, round(squeezeRatio · out))`. The original activation is fused into both
/// expand convolutions (it acts per element); a softmax activation becomes an Activation node
/// after the concatenation. The module's output keeps the original node's name, so consumers
/// and graph outputs are unchanged; channels `[0, out/2)` come from the 1×1 expand and
/// `[out/2, out)` from the 3×3 expand, in the original order.
///
/// Eligible: Conv2D with a 3×3 kernel, stride 1, dilation 1, `same` padding, at least 2 filters,
/// and fewer parameters as a Fire module than as it is (a Fire module only pays off when the
/// input has enough channels: roughly `in > out/7` at ratio 0.25).
///
/// Weights start from an SVD of the original kernel (`Fire.initialWeights`), then
/// distillation (`Distillation.fineTune`) recovers the accuracy.
///
///     let result = try Fire(squeezeRatio: 0.25).apply(to: model, selecting: .named(["conv2"]))
public struct Fire: CompressionOperator, Codable, Hashable {
  public static let id = "fire"

  /// Squeeze filters as a fraction of the original filters, in (0, 1].
  public var squeezeRatio: Double
  /// Seeds the squeeze filters the SVD does not determine.
  public var seed: UInt64

  public init(squeezeRatio: Double = 0.25, seed: UInt64 = 0) {
    self.squeezeRatio = squeezeRatio
    self.seed = seed
  }

  /// `fire:0.25`.
  public var description: String { "\(Self.id):\(squeezeRatio)" }

  /// Squeeze filters for a layer with `filters` outputs.
  public func squeezeFilters(forFilters filters: Int) -> Int {
    max(1, Int((squeezeRatio * Double(filters)).rounded()))
  }

  /// Parameters of the Fire module replacing a `[3, 3, inChannels, filters]` convolution.
  public func moduleParameters(inChannels: Int, filters: Int, useBias: Bool) -> Int {
    let s = squeezeFilters(forFilters: filters)
    let (e1, e3) = (filters / 2, filters - filters / 2)
    return inChannels * s + s + s * e1 + 9 * s * e3 + (useBias ? filters : 0)
  }

  public func isEligible(_ node: Node, in model: Model) -> Bool {
    ineligibilityReason(node, in: model) == nil
  }

  public func ineligibilityReason(_ node: Node, in model: Model) -> String? {
    guard case .conv2D(let c) = node.spec else { return "only Conv2D layers become Fire modules" }
    guard c.kernel == .square(3), c.strides == .square(1), c.dilation == .square(1), c.padding == .same else {
      return "needs a 3x3 kernel, stride 1, dilation 1 and same padding (found \(c.kernel), stride "
        + "\(c.strides), dilation \(c.dilation), \(c.padding) padding)"
    }
    guard c.filters >= 2 else { return "needs at least 2 filters" }
    guard let kernel = model.parameters[node.name, "kernel"], kernel.rank == 4 else { return "has no kernel" }
    let before = kernel.count + (c.useBias ? c.filters : 0)
    let after = moduleParameters(inChannels: kernel.shape[2], filters: c.filters, useBias: c.useBias)
    guard after < before else {
      return "a Fire module would have \(after) parameters, not fewer than the layer's \(before)"
    }
    return nil
  }

  public func apply(to model: Model, selecting selection: LayerSelection) throws(AdaError)
    -> CompressionResult
  {
    guard squeezeRatio > 0 && squeezeRatio <= 1 else {
      throw AdaError(
        .invalidValue, path: "\(Self.id).squeezeRatio", "expected a ratio in (0, 1], found \(squeezeRatio)")
    }
    var rewriter = GraphRewriter(model)
    let index = model.graph.indexByName
    for name in try selectedNodes(in: model, selection) {
      let node = model.graph.node(named: name)!
      guard case .conv2D(let conv) = node.spec, let kernel = model.parameters[name, "kernel"] else {
        continue
      }
      let s = squeezeFilters(forFilters: conv.filters)
      let weights = try Self.initialWeights(
        kernel: kernel, bias: conv.useBias ? model.parameters[name, "bias"] : nil, squeezeFilters: s,
        seed: seed &+ UInt64(index[name]!))
      let names = FireNames(
        base: name, separateActivation: conv.activation == .softmax, unique: { rewriter.uniqueName($0) })
      rewriter.replace(
        name, with: Self.moduleNodes(for: node, conv: conv, squeezeFilters: s, names: names),
        parameters: weights.parameters(names))
    }
    return try rewriter.result(operation: description)
  }

  /// The module's nodes in topological order; the last one takes over `node`'s name.
  static func moduleNodes(for node: Node, conv: Conv2DSpec, squeezeFilters s: Int, names: FireNames) -> [Node]
  {
    let e1 = conv.filters / 2
    let fused = conv.activation == .softmax ? Activation.linear : conv.activation
    var nodes = [
      Node(
        name: names.squeeze, spec: .conv2D(Conv2DSpec(filters: s, kernel: .square(1), activation: .relu)),
        inputs: node.inputs),
      Node(
        name: names.expand1,
        spec: .conv2D(Conv2DSpec(filters: e1, kernel: .square(1), useBias: conv.useBias, activation: fused)),
        inputs: [names.squeeze]),
      Node(
        name: names.expand3,
        spec: .conv2D(
          Conv2DSpec(
            filters: conv.filters - e1, kernel: .square(3), padding: .same, useBias: conv.useBias,
            activation: fused)),
        inputs: [names.squeeze]),
      Node(
        name: names.concat, spec: .concatenate(ConcatenateSpec(axis: -1)),
        inputs: [names.expand1, names.expand3]),
    ]
    if conv.activation == .softmax {
      nodes.append(Node(name: node.name, spec: .activation(.softmax), inputs: [names.concat]))
    }
    return nodes
  }
}

/// Node names of one Fire module replacing node `base`.
struct FireNames {
  var squeeze: String
  var expand1: String
  var expand3: String
  /// The concatenation: `base` itself unless an activation node follows it.
  var concat: String

  init(base: String, separateActivation: Bool, unique: (String) -> String) {
    squeeze = unique("\(base)_squeeze")
    expand1 = unique("\(base)_expand1x1")
    expand3 = unique("\(base)_expand3x3")
    concat = separateActivation ? unique("\(base)_concat") : base
  }
}
