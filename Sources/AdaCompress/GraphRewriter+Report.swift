import AdaNN
import AdaTensor

extension GraphRewriter {
  /// Validates the rewritten model and reports params/MACs of every rewritten original layer
  /// (before → after, summed over the nodes derived from it) and of every new node.
  ///
  /// - Throws: `AdaError(.internalError)` naming the offending layer when the rewrite produced an
  ///   invalid model (a bug in the operator, not in the user's input).
  public func result(operation: String) throws(AdaError) -> CompressionResult {
    let rewritten = model
    do {
      try rewritten.validate()
    } catch {
      throw AdaError(
        .internalError, path: error.path,
        "\(operation) produced an invalid model: \(error.message)")
    }
    let layerOperations = Dictionary(uniqueKeysWithValues: touched.map { ($0, operation) })
    let report = try CompressionReport.comparing(
      original, rewritten, origins: origins, layerOperations: layerOperations,
      operations: [operation])
    return CompressionResult(model: rewritten, report: report, origins: origins)
  }
}

extension CompressionReport {
  /// A report of `after` against `before`.
  ///
  /// - Parameters:
  ///   - origins: for each node of `after`, the node of `before` it came from (absent: new).
  ///   - layerOperations: the rewritten layers of `before` and the operation(s) that rewrote each.
  /// Layers are listed in `before`'s node order, then new nodes in `after`'s order. Weight bytes
  /// count 4 per parameter.
  public static func comparing(
    _ before: Model, _ after: Model, origins: [String: String], layerOperations: [String: String],
    operations: [String]
  ) throws(AdaError) -> CompressionReport {
    let b = try before.graph.costs()
    let a = try after.graph.costs()
    var afterByOrigin: [String: LayerCost] = [:]
    var layers: [LayerChange] = []
    for (node, cost) in zip(after.graph.nodes, a.perNode) {
      if let o = origins[node.name] {
        afterByOrigin[o, default: .zero] = afterByOrigin[o, default: .zero] + cost
      }
    }
    for (node, cost) in zip(before.graph.nodes, b.perNode) {
      guard let op = layerOperations[node.name] else { continue }
      layers.append(
        LayerChange(
          layer: node.name, operation: op, before: cost,
          after: afterByOrigin[node.name] ?? .zero))
    }
    let all = operations.joined(separator: " → ")
    for (node, cost) in zip(after.graph.nodes, a.perNode) where origins[node.name] == nil {
      layers.append(LayerChange(layer: node.name, operation: all, before: .zero, after: cost))
    }
    return CompressionReport(
      operations: operations, layers: layers, before: ModelSize(b.total),
      after: ModelSize(a.total))
  }
}

extension ModelSize {
  /// Float32 weights: 4 bytes per parameter.
  public init(_ cost: LayerCost) {
    self.init(params: cost.params, macs: cost.macs, weightBytes: 4 * cost.params)
  }
}
