import AdaNN
import AdaTensor

/// Adds per-input early-exit heads to a variant (docs/exits.md): a pure rewrite giving the
/// *multi-exit* model — the variant's graph and weights untouched, plus one head (`ExitHead`)
/// after each site, as extra outputs.
///
/// **Output order:** one output per exit in depth order (graph order of the node it reads),
/// then the variant's own output last. The last output computes exactly what the variant
/// computes (same nodes, same weights, so bit-identical).
///
/// Head nodes are `<node>_exit_pool`, `<node>_exit_conv`, …, `<node>_exit` (the classifier,
/// the output). The classifier ends in softmax when the variant's output does, else it is
/// linear. Head weights come from `weights` (trained ones, keyed like the head's nodes) or,
/// when absent, seeded Glorot-uniform kernels and zero biases.
///
///     let heads = ExitHeads(sites: [.init(block: "conv1", node: "pool1", head: .grid(2))])
///     let multi = try heads.apply(to: variant)
///     multi.graph.outputs  // ["pool1_exit", "fc2"]
public struct ExitHeads: Sendable {
  /// Where one head goes.
  public struct Site: Codable, Hashable, Sendable {
    /// The block the head follows, as the recipe or supernet names it (for reports).
    public var block: String
    /// The variant node the head reads: `[H, W, C]` or `[C]`.
    public var node: String
    public var head: ExitHead

    public init(block: String, node: String, head: ExitHead) {
      self.block = block
      self.node = node
      self.head = head
    }

    /// The head's output node name.
    public var output: String { "\(node)_exit" }
  }

  public var sites: [Site]
  /// Trained head weights (`<node>_exit…/kernel`, `…/bias`); missing ones are initialised.
  public var weights: Parameters
  /// Seeds the weights not in `weights`.
  public var seed: UInt64

  public init(sites: [Site], weights: Parameters = Parameters(), seed: UInt64 = 0) {
    self.sites = sites
    self.weights = weights
    self.seed = seed
  }

  /// The class count and whether the classifier should end in softmax, from `model`'s (single)
  /// output.
  public static func classifier(of model: Model) throws(AdaError) -> (classes: Int, activation: Activation) {
    let graph = model.graph
    guard graph.outputs.count == 1 else {
      throw AdaError(
        .invalidValue, path: graph.name, "early exits need a single-output variant, found \(graph.outputs)")
    }
    let shapes = try graph.inferShapes()
    guard let shape = shapes[graph.outputs[0]], shape.count == 1 else {
      throw AdaError(.invalidValue, path: graph.outputs[0], "the variant's output is not a class vector")
    }
    return (shape[0], EarlyExit(after: []).endsInSoftmax(graph) ? .softmax : .linear)
  }

  /// The multi-exit model: `model` plus the heads, outputs exits (depth order) then `model`'s own.
  ///
  /// - Throws: `AdaError` at `exits.after` when a site names no node of the model, a node that
  ///   is the output, or a node whose output is not `[H, W, C]` or `[C]`.
  public func apply(to model: Model) throws(AdaError) -> Model {
    let (classes, activation) = try Self.classifier(of: model)
    let graph = model.graph
    let shapes = try graph.inferShapes()
    let order = graph.indexByName
    var byNode: [String: Site] = [:]
    for site in sites {
      guard let shape = shapes[site.node], order[site.node] != nil else {
        throw AdaError(
          .invalidValue, path: "exits.after",
          "block '\(site.block)': no node '\(site.node)' in model '\(graph.name)'")
      }
      guard !graph.outputs.contains(site.node), !(graph.node(named: site.node)?.spec.isInput ?? true) else {
        throw AdaError(
          .invalidValue, path: "exits.after",
          "block '\(site.block)': an exit cannot read the input or the output")
      }
      guard shape.count == 3 || shape.count == 1 else {
        throw AdaError(
          .invalidValue, path: "exits.after",
          "block '\(site.block)': an exit needs [H, W, C] or [C] features, '\(site.node)' gives \(shape)")
      }
      guard byNode[site.node] == nil else {
        throw AdaError(.invalidValue, path: "exits.after", "two exits read node '\(site.node)'")
      }
      byNode[site.node] = site
    }
    var nodes: [Node] = []
    var parameters = model.parameters
    var outputs: [String] = []
    var g = SeededGenerator(seed: seed)
    for node in graph.nodes {
      nodes.append(node)
      guard let site = byNode[node.name] else { continue }
      let head = site.head.nodes(
        reading: node.name, feature: shapes[node.name]!, classes: classes, prefix: site.output,
        activation: activation)
      var known = shapes
      for h in head {
        let layer = h.spec.makeLayer()
        let inShapes = h.inputs.map { known[$0]! }
        known[h.name] = try layer.outputShape(for: inShapes)
        for spec in layer.parameters(for: inShapes) {
          let initial = spec.initialValue(using: &g)  // drawn always: seeds do not shift
          parameters[h.name, spec.name] = weights[h.name, spec.name] ?? initial
        }
      }
      nodes += head
      outputs.append(site.output)
    }
    let names = Set(nodes.map(\.name))
    guard names.count == nodes.count else {
      throw AdaError(
        .invalidValue, path: "exits.after", "an exit head's node name is already taken in the model")
    }
    let multi = Model(
      graph: Graph(name: graph.name, nodes: nodes, outputs: outputs + graph.outputs), parameters: parameters)
    try multi.validate()
    return multi
  }

  /// The sites ordered as the model runs them (graph order of `node`).
  public func ordered(in graph: Graph) -> [Site] {
    let order = graph.indexByName
    return sites.sorted { (order[$0.node] ?? .max) < (order[$1.node] ?? .max) }
  }
}
