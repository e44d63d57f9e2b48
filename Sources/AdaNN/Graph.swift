import AdaTensor

/// One node of a model graph: a named layer and the names of the nodes it reads.
public struct Node: Codable, Hashable, Sendable {
  /// Unique within the graph; also the prefix of the node's parameter keys (`name/kernel`).
  public var name: String
  public var spec: LayerSpec
  /// Producer node names, in argument order (Add/Concatenate take several).
  public var inputs: [String]

  public init(name: String, spec: LayerSpec, inputs: [String]) {
    self.name = name
    self.spec = spec
    self.inputs = inputs
  }
}

/// A model's architecture: nodes in topological order, one input node, one or more outputs
/// (early exits are extra outputs). A value: rewrites return new graphs.
public struct Graph: Codable, Hashable, Sendable {
  public var name: String
  public var nodes: [Node]
  /// Names of the output nodes, in model-output order.
  public var outputs: [String]

  public init(name: String, nodes: [Node], outputs: [String]) {
    self.name = name
    self.nodes = nodes
    self.outputs = outputs
  }

  /// The single input node.
  public var input: Node {
    guard let n = nodes.first(where: { if case .input = $0.spec { true } else { false } }) else {
      preconditionFailure("Graph \(name) has no input node; call validate() first")
    }
    return n
  }

  /// Per-example input shape, e.g. `[28, 28, 1]`.
  public var inputShape: [Int] {
    guard case .input(let s) = input.spec else { return [] }
    return s.shape
  }

  public func node(named name: String) -> Node? { nodes.first { $0.name == name } }

  /// Index of each node by name.
  public var indexByName: [String: Int] {
    Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1.name, $0) })
  }

  /// Names of the nodes that read each node's output.
  public var consumers: [String: [String]] {
    var c: [String: [String]] = [:]
    for n in nodes { for i in n.inputs { c[i, default: []].append(n.name) } }
    return c
  }

  /// Checks structure (unique names, one input, inputs defined before use, outputs exist) and
  /// infers every node's output shape (batch excluded). Errors name the offending node.
  public func inferShapes() throws(AdaError) -> [String: [Int]] {
    var shapes: [String: [Int]] = [:]
    var inputCount = 0
    for node in nodes {
      if shapes[node.name] != nil {
        throw AdaError(.invalidValue, path: node.name, "layer name is used twice")
      }
      var inShapes: [[Int]] = []
      if case .input(let s) = node.spec {
        inputCount += 1
        guard !s.shape.isEmpty, s.shape.allSatisfy({ $0 > 0 }) else {
          throw AdaError(
            .badShape, path: node.name,
            "input shape must be fully known and positive, found \(s.shape)")
        }
        inShapes = [s.shape]
      } else {
        guard !node.inputs.isEmpty else {
          throw AdaError(.invalidValue, path: node.name, "layer has no inputs")
        }
        for i in node.inputs {
          guard let s = shapes[i] else {
            throw AdaError(
              .invalidValue, path: node.name,
              "reads '\(i)', which is not defined before it in the graph")
          }
          inShapes.append(s)
        }
      }
      do {
        shapes[node.name] = try node.spec.makeLayer().outputShape(for: inShapes)
      } catch {
        throw error.at(node.name)
      }
    }
    guard inputCount == 1 else {
      throw AdaError(
        .unsupported, path: name, "a model needs exactly one input layer, found \(inputCount)")
    }
    guard !outputs.isEmpty else { throw AdaError(.invalidValue, path: name, "model has no outputs") }
    for o in outputs where shapes[o] == nil {
      throw AdaError(.invalidValue, path: name, "output '\(o)' is not a layer of the model")
    }
    return shapes
  }
}

extension Graph {
  /// The same graph with only `outputs`, without the nodes none of them reads (the input node
  /// always stays).
  public func keepingOnly(outputs: [String]) -> Graph {
    var needed = Set(outputs)
    for node in nodes.reversed() where needed.contains(node.name) { needed.formUnion(node.inputs) }
    needed.insert(input.name)
    return Graph(name: name, nodes: nodes.filter { needed.contains($0.name) }, outputs: outputs)
  }
}
