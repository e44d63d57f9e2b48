import AdaNN
import AdaTensor

/// `early-exit:<block>[,<block>…][:<hidden>]` — adds an exit head after each named block, as an
/// extra model output (BranchyNet, Teerapittayanon et al., 2016):
///
///     block output [H, W, C] → GlobalAveragePooling2D → [Dense(hidden, relu)] → Dense(classes)
///
/// (a block with a `[C]` output skips the pooling). `classes` is the size of the model's first
/// output; the exit ends in softmax when that output does (a Dense with softmax activation or a
/// Softmax layer), else it is linear. Nothing else changes: the original outputs compute exactly
/// what they did.
///
/// A block is a node name, or a prefix `p` naming the nodes `p_…` (Keras applications name
/// blocks that way: `block_2` → `block_2_expand` … `block_2_project_BN`); the exit attaches to the
/// last of those nodes in graph order.
///
/// **Output order:** the model's original outputs first, unchanged, then one output per exit,
/// ordered by the position of its block in the graph (shallowest first), whatever the order
/// of `after`. Exit nodes are `<node>_exit_gap`, `<node>_exit_hidden`, `<node>_exit` (the output).
///
/// Exit weights are seeded Glorot-uniform kernels and zero biases; they are meant to be
/// trained by distillation (`Distillation.fineTune`, every output distils from the original).
///
///     let result = try EarlyExit(after: ["block_1"]).apply(to: model, selecting: .all)
///     result.model.graph.outputs      // ["predictions", "block_1_add_exit"]
public struct EarlyExit: CompressionOperator, Codable, Hashable {
  public static let id = "early-exit"

  /// Blocks (node names or prefixes) to attach exits to; empty: the layers the selection names.
  public var after: [String]
  /// Units of an optional hidden Dense (relu) in each exit.
  public var hidden: Int?
  /// Seeds the exit weights.
  public var seed: UInt64

  public init(after: [String], hidden: Int? = nil, seed: UInt64 = 0) {
    self.after = after
    self.hidden = hidden
    self.seed = seed
  }

  public var description: String {
    "\(Self.id):\(after.joined(separator: ","))" + (hidden.map { ":\($0)" } ?? "")
  }

  public func isEligible(_ node: Node, in model: Model) -> Bool {
    ineligibilityReason(node, in: model) == nil
  }

  public func ineligibilityReason(_ node: Node, in model: Model) -> String? {
    if node.spec.isInput { return "an exit cannot follow the input" }
    if model.graph.outputs.contains(node.name) { return "the layer is already a model output" }
    guard let shapes = try? model.graph.inferShapes(), let shape = shapes[node.name] else {
      return "the model's shapes cannot be inferred"
    }
    guard shape.count == 3 || shape.count == 1 else {
      return "an exit needs an [H, W, C] or [C] output, the layer gives \(shape)"
    }
    guard let first = model.graph.outputs.first, shapes[first]?.count == 1 else {
      return "the model's first output is not a class vector"
    }
    return nil
  }

  /// The node an exit attaches to for `block`: the node of that name, else the last node whose
  /// name starts with `block_`.
  public func attachmentNode(for block: String, in graph: Graph) throws(AdaError) -> String {
    if graph.node(named: block) != nil { return block }
    guard let last = graph.nodes.last(where: { $0.name.hasPrefix(block + "_") }) else {
      throw AdaError(
        .invalidValue, path: block,
        "\(description): no layer or block named '\(block)' in model '\(graph.name)'")
    }
    return last.name
  }

  public func apply(to model: Model, selecting selection: LayerSelection) throws(AdaError)
    -> CompressionResult
  {
    if let hidden, hidden < 1 {
      throw AdaError(.invalidValue, path: "\(Self.id).hidden", "expected ≥ 1 hidden units, found \(hidden)")
    }
    let graph = model.graph
    var targets: [String]
    if after.isEmpty {
      targets = try selectedNodes(in: model, selection)
    } else {
      targets = []
      for block in after { targets.append(try attachmentNode(for: block, in: graph)) }
      targets = try LayerSelection.named(targets).resolve(
        in: model, operation: description, isEligible: { isEligible($0, in: model) },
        reason: { ineligibilityReason($0, in: model) })
    }
    let shapes = try graph.inferShapes()
    let classes = shapes[graph.outputs[0]]![0]
    let final: Activation = endsInSoftmax(graph) ? .softmax : .linear
    var rewriter = GraphRewriter(model)
    var g = SeededGenerator(seed: seed)
    for target in targets {  // graph order: resolve returns names in graph order
      var nodes: [Node] = []
      var previous = target
      if shapes[target]!.count == 3 {
        previous = rewriter.uniqueName("\(target)_exit_gap")
        nodes.append(
          Node(name: previous, spec: .globalPool2D(GlobalPool2DSpec(kind: .average)), inputs: [target]))
      }
      if let hidden {
        let name = rewriter.uniqueName("\(target)_exit_hidden")
        nodes.append(
          Node(name: name, spec: .dense(DenseSpec(units: hidden, activation: .relu)), inputs: [previous]))
        previous = name
      }
      let exit = rewriter.uniqueName("\(target)_exit")
      nodes.append(
        Node(name: exit, spec: .dense(DenseSpec(units: classes, activation: final)), inputs: [previous]))
      rewriter.insert(
        nodes, after: target, parameters: try initialParameters(nodes, shapes: shapes, using: &g))
      rewriter.addOutput(exit)
    }
    return try rewriter.result(operation: description)
  }

  /// Seeded initial weights of an exit's nodes (the layers' own initialisers: Glorot-uniform
  /// kernels, zero biases).
  func initialParameters(_ nodes: [Node], shapes: [String: [Int]], using g: inout SeededGenerator)
    throws(AdaError) -> Parameters
  {
    var known = shapes
    var p = Parameters()
    for node in nodes {
      let layer = node.spec.makeLayer()
      let inShapes = node.inputs.map { known[$0]! }
      known[node.name] = try layer.outputShape(for: inShapes)
      for spec in layer.parameters(for: inShapes) { p[node.name, spec.name] = spec.initialValue(using: &g) }
    }
    return p
  }

  /// Whether the model's first output is a softmax (a Softmax layer or a layer with a softmax
  /// activation).
  func endsInSoftmax(_ graph: Graph) -> Bool {
    switch graph.node(named: graph.outputs[0])?.spec {
    case .softmax?, .activation(.softmax)?: true
    case .dense(let d)?: d.activation == .softmax
    case .conv2D(let c)?: c.activation == .softmax
    default: false
    }
  }
}
