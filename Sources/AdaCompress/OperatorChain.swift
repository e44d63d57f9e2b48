import AdaNN
import AdaTensor

/// Several operators applied in order (e.g. prune → low-rank), with one combined report that
/// speaks of the *original* layers: each rewritten original layer's cost before the chain and
/// after it (summed over every node derived from it), and the operations that touched it.
///
///     let chain = OperatorChain([
///       .init(PruneChannels(ratio: 0.25)),
///       .init(LowRank(rank: .ratio(0.5)), selecting: .filter(kinds: ["dense"], minimumParams: 0)),
///     ])
///     let result = try chain.apply(to: model, selecting: .all)
///     result.report.layers   // e.g. dense1: prune-channels:0.25 → low-rank:0.5, 8 320 → 1 890 params
///
/// A step without its own selection uses the one given to `apply`. Each step selects among the
/// layers of the model the previous step produced (names are kept by the operators' convention:
/// the last node of a replacement keeps the replaced node's name).
///
/// The chain carries the quantized-weights table (`CompressionResult.quantized`) itself: after
/// each step, the entries whose weight the step left bit-identical survive (`stillMatching`) and
/// the step's own entries (a `quantize` step) are added. `report.before/after.weightBytes` count
/// the quantized weights at their bits.
///
///     let chain = OperatorChain([.init(LowRank(rank: .ratio(0.25))), .init(Quantize(bits: 8))])
///     chain.apply(to: model, selecting: .all).quantized.keys   // every kernel after low-rank
public struct OperatorChain: CompressionOperator {
  public struct Step: Sendable {
    public var op: any CompressionOperator
    /// `nil`: the selection passed to `OperatorChain.apply`.
    public var selection: LayerSelection?

    public init(_ op: any CompressionOperator, selecting selection: LayerSelection? = nil) {
      self.op = op
      self.selection = selection
    }
  }

  public static let id = "chain"
  public var steps: [Step]

  public init(_ steps: [Step]) { self.steps = steps }

  /// The steps' descriptions joined by ` → `, e.g. `prune-channels:0.25 → low-rank:0.5`.
  public var description: String { steps.map(\.op.description).joined(separator: " → ") }

  /// Eligible for at least one step (judged on the input model).
  public func isEligible(_ node: Node, in model: Model) -> Bool {
    steps.contains { $0.op.isEligible(node, in: model) }
  }

  public func apply(
    to model: Model, selecting selection: LayerSelection
  ) throws(AdaError) -> CompressionResult {
    try apply(to: model, quantized: [:], selecting: selection)
  }

  /// `apply(to:selecting:)` for a model that already carries quantized weights (`quantized`,
  /// e.g. read from a file); entries that do not match `model` bit for bit are dropped first.
  public func apply(
    to model: Model, quantized: QuantizedWeights, selecting selection: LayerSelection
  ) throws(AdaError) -> CompressionResult {
    // For each node of the current model: the original node it came from.
    var origins = Dictionary(uniqueKeysWithValues: model.graph.nodes.map { ($0.name, $0.name) })
    var operationsByLayer: [String: [String]] = [:]
    let initial = quantized.stillMatching(model)
    var table = initial
    var current = model
    for step in steps {
      let result = try step.op.apply(to: current, selecting: step.selection ?? selection)
      let description = step.op.description
      for change in result.report.layers {
        if let original = origins[change.layer] {
          operationsByLayer[original, default: []].append(description)
        }
      }
      let before = Set(current.graph.nodes.map(\.name))
      var next: [String: String] = [:]
      for node in result.model.graph.nodes {
        let parent = result.origins.map { $0[node.name] } ?? (before.contains(node.name) ? node.name : nil)
        if let parent, let original = origins[parent] { next[node.name] = original }
      }
      origins = next
      table = table.stillMatching(result.model).merging(result.quantized) { _, new in new }
      current = result.model
    }
    var report = try CompressionReport.comparing(
      model, current, origins: origins,
      layerOperations: operationsByLayer.mapValues { $0.joined(separator: " → ") },
      operations: steps.map(\.op.description))
    report.before.weightBytes = model.weightBytes(quantized: initial)
    report.after.weightBytes = current.weightBytes(quantized: table)
    return CompressionResult(model: current, report: report, origins: origins, quantized: table)
  }
}
