import AdaTensor

/// Weights of a graph, keyed `node/name` (e.g. `conv1/kernel`, `bn1/movingMean`).
/// Gradients use the same type and keys.
public struct Parameters: Sendable, Equatable {
  public var tensors: [String: Tensor]

  public init(_ tensors: [String: Tensor] = [:]) { self.tensors = tensors }

  @inlinable public static func key(_ node: String, _ name: String) -> String { "\(node)/\(name)" }

  public subscript(node: String, name: String) -> Tensor? {
    get { tensors[Self.key(node, name)] }
    set { tensors[Self.key(node, name)] = newValue }
  }

  /// Sorted keys, for deterministic iteration.
  public var keys: [String] { tensors.keys.sorted() }

  /// Total number of scalars.
  public var scalarCount: Int { tensors.values.reduce(0) { $0 + $1.count } }

  /// Zeros shaped like every tensor here (a gradient buffer).
  public func zerosLike() -> Parameters {
    Parameters(tensors.mapValues { Tensor(shape: $0.shape) })
  }

  /// Fresh, seeded parameters for every node of `graph` (training from scratch).
  public static func initialize(for graph: Graph, seed: UInt64) throws(AdaError) -> Parameters {
    let shapes = try graph.inferShapes()
    var g = SeededGenerator(seed: seed)
    var p = Parameters()
    for node in graph.nodes {
      let inShapes = node.inputs.compactMap { shapes[$0] }
      for spec in node.spec.makeLayer().parameters(for: inShapes) {
        p[node.name, spec.name] = spec.initialValue(using: &g)
      }
    }
    return p
  }
}

/// A graph with its parameters: what readers return and writers take.
public struct Model: Sendable {
  public var graph: Graph
  public var parameters: Parameters

  public init(graph: Graph, parameters: Parameters) {
    self.graph = graph
    self.parameters = parameters
  }

  /// Checks the graph and that every parameter a layer needs is present, correctly shaped and
  /// finite, and that no unexpected parameter is present. Errors name `layer/weight`.
  @discardableResult
  public func validate() throws(AdaError) -> [String: [Int]] {
    let shapes = try graph.inferShapes()
    var expected = Set<String>()
    for node in graph.nodes {
      let inShapes = node.inputs.compactMap { shapes[$0] }
      for spec in node.spec.makeLayer().parameters(for: inShapes) {
        let key = Parameters.key(node.name, spec.name)
        expected.insert(key)
        guard let t = parameters.tensors[key] else {
          throw AdaError(
            .missing, path: key, "weight is missing (expected shape \(spec.shape))")
        }
        guard t.shape == spec.shape else {
          throw AdaError(
            .badShape, path: key, "weight has shape \(t.shape), expected \(spec.shape)")
        }
        if let bad = t.scalars.firstIndex(where: { !$0.isFinite }) {
          throw AdaError(
            .nonFinite, path: key,
            "weight holds a non-finite value (\(t.scalars[bad]) at flat index \(bad))")
        }
      }
    }
    if let extra = parameters.keys.first(where: { !expected.contains($0) }) {
      throw AdaError(.invalidValue, path: extra, "weight does not belong to any layer of the model")
    }
    return shapes
  }
}
