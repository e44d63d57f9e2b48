import AdaNN
import AdaTensor

/// Edits a copy of a model: replace a node by a chain or a small subgraph, bypass or rename a
/// node, point consumers elsewhere, set specs and weights. Every operator is written with it, so
/// the input model is never touched (it is a value) and the graph stays topologically ordered.
///
/// The rewriter also keeps *provenance*: for every node of the rewritten graph, the node of the
/// original model it was derived from (`origin`), and which original nodes were rewritten
/// (`touched`). `result(operation:)` turns that into the `CompressionReport`.
///
///     var r = GraphRewriter(model)
///     let mid = r.uniqueName("dense1_lowrank")
///     r.replace("dense1", withChain: [
///       Node(name: mid, spec: .dense(DenseSpec(units: 8, useBias: false)), inputs: []),
///       Node(name: "dense1", spec: .dense(DenseSpec(units: 10)), inputs: []),
///     ], parameters: p)                      // p keyed "dense1_lowrank/kernel", "dense1/kernel", …
///     return try r.result(operation: "low-rank:0.25")
///
/// Conventions the operators follow (not enforced): the last node of a replacement keeps the
/// replaced node's name, so graph outputs and consumers keep their names.
public struct GraphRewriter: Sendable {
  /// The model being rewritten, as it was given.
  public let original: Model
  /// The graph as edited so far (topological order).
  public private(set) var graph: Graph
  /// The weights as edited so far, keyed `node/name`.
  public var parameters: Parameters
  /// For each node of `graph`, the name of the original node it was derived from; new nodes
  /// with no original counterpart (an exit head) are absent.
  public private(set) var origins: [String: String]
  /// Original nodes that were rewritten (respecified, re-weighted, replaced or removed).
  public private(set) var touched: Set<String> = []

  public init(_ model: Model) {
    original = model
    graph = model.graph
    parameters = model.parameters
    origins = Dictionary(uniqueKeysWithValues: model.graph.nodes.map { ($0.name, $0.name) })
  }

  /// The rewritten model so far.
  public var model: Model { Model(graph: graph, parameters: parameters) }

  // MARK: Queries

  public func node(_ name: String) -> Node? { graph.node(named: name) }

  /// Names of the nodes that read `name`, in graph order.
  public func consumers(of name: String) -> [String] {
    graph.nodes.filter { $0.inputs.contains(name) }.map(\.name)
  }

  /// Whether `name` is one of the graph's outputs.
  public func isOutput(_ name: String) -> Bool { graph.outputs.contains(name) }

  /// The original node `name` (a node of the current graph) was derived from, or nil for a new node.
  public func origin(of name: String) -> String? { origins[name] }

  /// `base` if no node is called that, else `base_2`, `base_3`, …
  public func uniqueName(_ base: String) -> String {
    let used = Set(graph.nodes.map(\.name))
    if !used.contains(base) { return base }
    var k = 2
    while used.contains("\(base)_\(k)") { k += 1 }
    return "\(base)_\(k)"
  }

  // MARK: Edits

  /// Replaces node `name` by `nodes` (given in topological order, with their `inputs` set; they
  /// may read `name`'s inputs or any earlier node). Consumers and graph outputs that read `name`
  /// read `output` (default: the last new node) instead. `name`'s weights are removed and
  /// `newParameters` (keyed `node/name`) added. The new nodes' origin is `name`'s origin.
  public mutating func replace(
    _ name: String, with nodes: [Node], output: String? = nil, parameters newParameters: Parameters
  ) {
    guard let index = graph.nodes.firstIndex(where: { $0.name == name }) else {
      preconditionFailure("GraphRewriter.replace: no node named \(name)")
    }
    precondition(!nodes.isEmpty, "GraphRewriter.replace: \(name) needs at least one new node")
    let out = output ?? nodes.last!.name
    precondition(nodes.contains { $0.name == out }, "GraphRewriter.replace: output \(out) is not new")
    let source = origin(of: name)
    markTouched(name)
    removeParameters(of: name)
    graph.nodes.remove(at: index)
    origins[name] = nil
    let existing = Set(graph.nodes.map(\.name))
    for n in nodes {
      precondition(!existing.contains(n.name), "GraphRewriter.replace: \(n.name) already exists")
    }
    graph.nodes.insert(contentsOf: nodes, at: index)
    for n in nodes { origins[n.name] = source }
    redirect(from: name, to: out, skipping: Set(nodes.map(\.name)))
    for (key, t) in newParameters.tensors { parameters.tensors[key] = t }
    sortTopologically()
  }

  /// Replaces node `name` by a linear chain: the first node reads `name`'s inputs, each next
  /// node reads the previous one (the `inputs` given are ignored), the last takes over `name`'s
  /// consumers and output position.
  public mutating func replace(
    _ name: String, withChain chain: [Node], parameters newParameters: Parameters
  ) {
    guard let old = node(name) else { preconditionFailure("GraphRewriter.replace: no node \(name)") }
    var linked = chain
    for i in linked.indices { linked[i].inputs = i == 0 ? old.inputs : [linked[i - 1].name] }
    replace(name, with: linked, parameters: newParameters)
  }

  /// Removes a single-input node; its consumers (and graph outputs) read its input instead.
  public mutating func bypass(_ name: String) {
    guard let index = graph.nodes.firstIndex(where: { $0.name == name }) else {
      preconditionFailure("GraphRewriter.bypass: no node named \(name)")
    }
    let n = graph.nodes[index]
    precondition(n.inputs.count == 1, "GraphRewriter.bypass: \(name) has \(n.inputs.count) inputs")
    markTouched(name)
    removeParameters(of: name)
    graph.nodes.remove(at: index)
    origins[name] = nil
    redirect(from: name, to: n.inputs[0], skipping: [])
  }

  /// Renames a node, its weights, and every reference to it (consumers, outputs).
  public mutating func rename(_ name: String, to newName: String) {
    guard name != newName else { return }
    guard let index = graph.nodes.firstIndex(where: { $0.name == name }) else {
      preconditionFailure("GraphRewriter.rename: no node named \(name)")
    }
    precondition(node(newName) == nil, "GraphRewriter.rename: \(newName) already exists")
    let source = origin(of: name)
    graph.nodes[index].name = newName
    origins[name] = nil
    origins[newName] = source
    let prefix = name + "/"
    for key in parameters.keys where key.hasPrefix(prefix) {
      parameters.tensors[newName + "/" + key.dropFirst(prefix.count)] = parameters.tensors[key]
      parameters.tensors[key] = nil
    }
    redirect(from: name, to: newName, skipping: [])
  }

  /// Makes every consumer of `name` (except those in `skipping`) and every graph output equal to
  /// `name` refer to `target` instead.
  public mutating func redirect(from name: String, to target: String, skipping: Set<String>) {
    for i in graph.nodes.indices where !skipping.contains(graph.nodes[i].name) {
      graph.nodes[i].inputs = graph.nodes[i].inputs.map { $0 == name ? target : $0 }
    }
    graph.outputs = graph.outputs.map { $0 == name ? target : $0 }
  }

  /// Changes a node's spec (its weights must be updated to match, see `setParameter`).
  public mutating func setSpec(_ name: String, _ spec: LayerSpec) {
    guard let index = graph.nodes.firstIndex(where: { $0.name == name }) else {
      preconditionFailure("GraphRewriter.setSpec: no node named \(name)")
    }
    if graph.nodes[index].spec != spec { markTouched(name) }
    graph.nodes[index].spec = spec
  }

  /// Sets (or with nil, removes) weight `node/name`.
  public mutating func setParameter(_ node: String, _ name: String, _ value: Tensor?) {
    markTouched(node)
    parameters[node, name] = value
  }

  /// Removes every weight of node `name`.
  public mutating func removeParameters(of name: String) {
    let prefix = name + "/"
    for key in parameters.keys where key.hasPrefix(prefix) { parameters.tensors[key] = nil }
  }

  /// Inserts new nodes (inputs set by the caller) after node `name`, without rewiring anything:
  /// for side branches such as early exits. New nodes have no origin.
  public mutating func insert(_ nodes: [Node], after name: String, parameters newParameters: Parameters) {
    guard let index = graph.nodes.firstIndex(where: { $0.name == name }) else {
      preconditionFailure("GraphRewriter.insert: no node named \(name)")
    }
    for n in nodes { precondition(node(n.name) == nil, "GraphRewriter.insert: \(n.name) exists") }
    graph.nodes.insert(contentsOf: nodes, at: index + 1)
    for (key, t) in newParameters.tensors { parameters.tensors[key] = t }
    sortTopologically()
  }

  /// Appends `name` to the graph's outputs.
  public mutating func addOutput(_ name: String) {
    precondition(node(name) != nil, "GraphRewriter.addOutput: no node named \(name)")
    graph.outputs.append(name)
  }

  /// Records that the original node behind `name` was rewritten (done by every edit above;
  /// call it for edits made directly on `parameters`).
  public mutating func markTouched(_ name: String) {
    if let o = origin(of: name) { touched.insert(o) }
  }

  // MARK: Internals

  /// Stable topological sort: keeps the current order wherever it is already valid.
  mutating func sortTopologically() {
    var placed = Set<String>()
    var remaining = graph.nodes
    var sorted: [Node] = []
    sorted.reserveCapacity(remaining.count)
    while !remaining.isEmpty {
      guard let i = remaining.firstIndex(where: { $0.inputs.allSatisfy(placed.contains) }) else {
        // A cycle or a dangling input: keep the rest as is; validation in `result` reports it.
        sorted += remaining
        break
      }
      placed.insert(remaining[i].name)
      sorted.append(remaining.remove(at: i))
    }
    graph.nodes = sorted
  }
}
