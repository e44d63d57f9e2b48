import AdaNN
import AdaTensor

/// A compression operator: a pure rewrite of a model into a smaller one whose weights start from
/// the original (style.md §4). It never mutates its input.
///
///     let op = LowRank(rankRatio: 0.25)
///     let result = try op.apply(to: model, selecting: .all)
///     result.model        // the rewritten graph + parameters
///     result.report       // params/MACs before → after, per layer
///
/// Each operator has a stable kebab-case `id` used in recipes, genomes, manifests and LUT keys,
/// and typed hyper-parameters (a struct with defaults, never a dictionary).
public protocol CompressionOperator: Sendable {
  /// Stable kebab-case id, e.g. `low-rank`.
  static var id: String { get }
  /// Canonical string form of this operator and its hyper-parameters, e.g. `low-rank:0.25`.
  var description: String { get }
  /// Whether this operator can rewrite `node` of `model` (the "capability" question).
  func isEligible(_ node: Node, in model: Model) -> Bool
  /// Why `node` is not eligible, for error messages (nil when it is, or when there is nothing
  /// more to say than "not eligible"). Has a default implementation returning nil.
  func ineligibilityReason(_ node: Node, in model: Model) -> String?
  /// Rewrites the selected, eligible nodes. Throws `AdaError` naming the layer when a selected
  /// layer cannot be rewritten.
  func apply(to model: Model, selecting selection: LayerSelection) throws(AdaError) -> CompressionResult
}

extension CompressionOperator {
  public func ineligibilityReason(_ node: Node, in model: Model) -> String? { nil }
}

/// Which layers an operator applies to.
public enum LayerSelection: Sendable, Hashable {
  /// Every eligible layer.
  case all
  /// Exactly these layers (by node name); naming an ineligible one is an error.
  case named([String])
  /// Eligible layers of these kinds (`LayerSpec.kindName`) with at least `minimumParams` params.
  case filter(kinds: Set<String>?, minimumParams: Int)
}

/// The rewritten model and what changed.
public struct CompressionResult: Sendable {
  public var model: Model
  public var report: CompressionReport
  /// Provenance: for each node of `model`, the node of the input model it was derived from
  /// (new nodes, such as an exit head, are absent). `nil` means "same names": every node whose
  /// name exists in the input came from that node. `OperatorChain` composes these so a chained
  /// report speaks of the original layers. `GraphRewriter.result(operation:)` fills it in.
  public var origins: [String: String]?
  /// Integers and scales of the quantized weights of `model` (keys `node/name`); `model`'s
  /// parameters hold their dequantized values. Empty unless a `quantize` step ran.
  public var quantized: QuantizedWeights

  public init(
    model: Model, report: CompressionReport, origins: [String: String]? = nil,
    quantized: QuantizedWeights = [:]
  ) {
    self.model = model
    self.report = report
    self.origins = origins
    self.quantized = quantized
  }
}

/// Params, MACs and weight bytes before → after, per rewritten layer and in total.
public struct CompressionReport: Codable, Hashable, Sendable {
  public struct LayerChange: Codable, Hashable, Sendable {
    /// The original node's name.
    public var layer: String
    /// Operator description that rewrote it, e.g. `low-rank:0.25`.
    public var operation: String
    public var before: LayerCost
    public var after: LayerCost
    public init(layer: String, operation: String, before: LayerCost, after: LayerCost) {
      self.layer = layer
      self.operation = operation
      self.before = before
      self.after = after
    }
  }

  public var operations: [String]
  public var layers: [LayerChange]
  public var before: ModelSize
  public var after: ModelSize

  public init(operations: [String], layers: [LayerChange], before: ModelSize, after: ModelSize) {
    self.operations = operations
    self.layers = layers
    self.before = before
    self.after = after
  }
}

/// Whole-model size.
public struct ModelSize: Codable, Hashable, Sendable {
  public var params: Int
  public var macs: Int
  /// Bytes of the stored weights (4 per float32 scalar; quantized weights count their bits).
  public var weightBytes: Int
  public init(params: Int, macs: Int, weightBytes: Int) {
    self.params = params
    self.macs = macs
    self.weightBytes = weightBytes
  }
}
