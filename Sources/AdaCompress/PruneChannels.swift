import AdaNN
import AdaTensor

/// `prune-channels`: removes a fraction of the output channels of Conv2D and Dense layers, with
/// the matching input channels of every layer that reads them. Tensors get physically smaller.
///
///     let result = try PruneChannels(ratio: 0.5, importance: .l1).apply(to: model, selecting: .all)
///
/// Channels are followed through per-channel layers (batch-norm, activations, pooling,
/// depthwise conv, zero-padding, dropout, global pooling), Flatten (into the rows of the next
/// Dense) and Concatenate; channels coupled across Add/Multiply (residual stages) are removed
/// together, with one keep-set chosen by summed importance (see `ChannelCoupling`). Channels
/// that reach a model output, a Reshape or a softmax are never removed: the output width is the
/// model's contract.
///
/// For each *component* (producers linked by coupling) holding a selected layer, with `N`
/// channel classes, `round(ratio · N)` classes of lowest importance are removed, never the last
/// channel of any layer. `ratio = 0` returns the model unchanged.
public struct PruneChannels: CompressionOperator, Codable, Hashable {
  /// How a channel's importance is measured (low importance goes first).
  public enum Importance: String, Codable, Hashable, Sendable {
    /// L1 norm of the channel's filter (all kernel weights producing it).
    case l1
    /// |γ| of the batch-norm that normalises the channel; layers without one fall back to L1.
    case batchNormGamma = "bn-gamma"
  }

  public static let id = "prune-channels"
  /// Fraction of channels to remove, in [0, 1).
  public var ratio: Double
  public var importance: Importance

  public init(ratio: Double = 0.5, importance: Importance = .l1) {
    self.ratio = ratio
    self.importance = importance
  }

  /// `prune-channels:0.5`, or `prune-channels:0.5:bn-gamma`.
  public var description: String {
    importance == .l1 ? "\(Self.id):\(ratio)" : "\(Self.id):\(ratio):\(importance.rawValue)"
  }

  public func isEligible(_ node: Node, in model: Model) -> Bool {
    ineligibilityReason(node, in: model) == nil
  }

  public func ineligibilityReason(_ node: Node, in model: Model) -> String? {
    guard let coupling = try? ChannelCoupling(graph: model.graph) else {
      return "the model's shapes do not check"
    }
    return ineligibilityReason(node, coupling)
  }

  func ineligibilityReason(_ node: Node, _ coupling: ChannelCoupling) -> String? {
    switch node.spec {
    case .conv2D, .dense: break
    default: return "prune-channels rewrites conv2d and dense layers"
    }
    if coupling.width[node.name]! < 2 { return "it has a single output channel" }
    if coupling.prunableClasses(of: node.name).isEmpty {
      return "its channels reach a model output, a reshape or a softmax"
    }
    return nil
  }

  public func apply(
    to model: Model, selecting selection: LayerSelection
  ) throws(AdaError) -> CompressionResult {
    guard ratio >= 0 && ratio < 1 else {
      throw AdaError(
        .invalidValue, path: "\(Self.id).ratio", "expected a ratio in [0, 1), found \(ratio)")
    }
    let coupling = try ChannelCoupling(graph: model.graph)
    let selected = Set(
      try selection.resolve(
        in: model, operation: description,
        isEligible: { ineligibilityReason($0, coupling) == nil },
        reason: { ineligibilityReason($0, coupling) }))
    var removed = Set<Int>()
    for component in coupling.components() where component.contains(where: selected.contains) {
      removed.formUnion(classesToRemove(in: component, coupling, model.parameters))
    }
    var rewriter = GraphRewriter(model)
    if !removed.isEmpty {
      for node in model.graph.nodes {
        try slice(node, keeping: coupling, removing: removed, in: &rewriter)
      }
    }
    return try rewriter.result(operation: description)
  }

  /// The lowest-importance prunable classes of one component, `round(ratio · N)` of them at most.
  func classesToRemove(
    in component: [String], _ coupling: ChannelCoupling, _ parameters: Parameters
  ) -> Set<Int> {
    var score: [Int: Double] = [:]
    var atomsPerProducer: [Int: [String: Int]] = [:]
    var remaining: [String: Int] = [:]
    for p in component {
      let values = channelImportance(of: p, coupling, parameters)
      remaining[p] = coupling.width[p]!
      for (c, a) in coupling.atoms(of: p).enumerated() {
        let k = coupling.classOf(a)
        score[k, default: 0] += values[c]
        atomsPerProducer[k, default: [:]][p, default: 0] += 1
      }
    }
    let count = Int((ratio * Double(score.count)).rounded())
    let candidates = score.keys.filter { !coupling.isFixed(class: $0) }
      .sorted { (score[$0]!, $0) < (score[$1]!, $1) }
    var removed = Set<Int>()
    for k in candidates where removed.count < count {
      let hits = atomsPerProducer[k]!
      guard hits.allSatisfy({ remaining[$0.key]! > $0.value }) else { continue }
      for (p, n) in hits { remaining[p]! -= n }
      removed.insert(k)
    }
    return removed
  }

  /// Importance of each output channel of a producer, `[width]`.
  func channelImportance(
    of producer: String, _ coupling: ChannelCoupling, _ parameters: Parameters
  ) -> [Double] {
    if importance == .batchNormGamma {
      let sources = coupling.atoms(of: producer).map { coupling.batchNormSource[$0] }
      if sources.allSatisfy({ $0 != nil }) {
        return sources.map { s in Double(abs(parameters[s!.node, "gamma"]!.scalars[s!.channel])) }
      }
    }
    let kernel = parameters[producer, "kernel"]!
    let out = kernel.shape.last!
    var l1 = [Double](repeating: 0, count: out)
    for (i, w) in kernel.scalars.enumerated() { l1[i % out] += Double(abs(w)) }
    return l1
  }
}
