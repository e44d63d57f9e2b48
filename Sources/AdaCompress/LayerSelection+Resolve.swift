import AdaNN
import AdaTensor

extension LayerSelection {
  /// The selected node names, in graph order.
  ///
  /// - `.all`: every eligible node.
  /// - `.named`: exactly these (duplicates ignored); an unknown name or an ineligible layer is an
  ///   error naming the layer.
  /// - `.filter(kinds:minimumParams:)`: eligible nodes whose `kindName` is in `kinds` (any kind
  ///   when nil) and that hold at least `minimumParams` parameters.
  ///
  /// - Parameter operation: the operator's description, used in error messages.
  /// - Parameter reason: why a node is not eligible (nil: no explanation).
  public func resolve(
    in model: Model, operation: String, isEligible: (Node) -> Bool,
    reason: (Node) -> String? = { _ in nil }
  ) throws(AdaError) -> [String] {
    let graph = model.graph
    switch self {
    case .all:
      return graph.nodes.filter(isEligible).map(\.name)
    case .named(let names):
      let wanted = Set(names)
      for name in names {
        guard let node = graph.node(named: name) else {
          throw AdaError(
            .invalidValue, path: name,
            "\(operation): no layer named '\(name)' in model '\(graph.name)'")
        }
        guard isEligible(node) else {
          let why = reason(node).map { ": \($0)" } ?? ""
          throw AdaError(
            .invalidValue, path: name,
            "\(operation) cannot rewrite layer '\(name)' (\(node.spec.kindName))\(why)")
        }
      }
      return graph.nodes.filter { wanted.contains($0.name) }.map(\.name)
    case .filter(let kinds, let minimumParams):
      let (perNode, _) = try graph.costs()
      return zip(graph.nodes, perNode).filter { node, cost in
        (kinds?.contains(node.spec.kindName) ?? true) && cost.params >= minimumParams
          && isEligible(node)
      }.map(\.0.name)
    }
  }
}

extension CompressionOperator {
  /// The nodes `selection` picks for this operator, in graph order (see `LayerSelection.resolve`).
  public func selectedNodes(
    in model: Model, _ selection: LayerSelection
  ) throws(AdaError) -> [String] {
    try selection.resolve(
      in: model, operation: description, isEligible: { isEligible($0, in: model) },
      reason: { ineligibilityReason($0, in: model) })
  }
}
