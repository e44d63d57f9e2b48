import AdaNN
import AdaTensor

/// A residual unit: `add = skip + branch(skip)`, where the branch is a subgraph that reads only
/// `skip` and is read only by `add`. Dropping the unit leaves `skip` in `add`'s place — the
/// *elastic depth* of once-for-all, which needs the branch to keep its input's shape (an
/// identity shortcut). The inverted-residual blocks of MobileNetV2/V3 and EfficientNet, and the
/// identity blocks of ResNet, are such units.
public struct ResidualUnit: Codable, Hashable, Sendable {
  /// The Add node that ends the unit.
  public var add: String
  /// The unit's input, read by `add` directly (the shortcut).
  public var skip: String
  /// The branch's nodes, in graph order (neither `skip` nor `add`).
  public var nodes: [String]
}

/// A chain of residual units, each reading the previous one's `add` as its `skip`: the units of
/// one stage after its first (shape-changing) block. A configuration keeps the first `d` units
/// of a stage (once-for-all keeps the first blocks of a stage and skips the later ones).
public struct ResidualStage: Codable, Hashable, Sendable {
  public var units: [ResidualUnit]

  /// The stage's name: its first unit's Add node.
  public var name: String { units[0].add }

  /// Finds every residual unit of `graph` and chains them into stages, in graph order.
  ///
  /// A two-input Add is a unit when one input (`skip`) is the only way into the subgraph that
  /// computes the other: walking back from the other input reaches nothing outside that
  /// subgraph but `skip`, no node of the subgraph is read outside it (or is an output), and
  /// both inputs have the same shape.
  public static func find(in graph: Graph) throws(AdaError) -> [ResidualStage] {
    let shapes = try graph.inferShapes()
    let consumers = graph.consumers
    let order = graph.indexByName
    var units: [ResidualUnit] = []
    for node in graph.nodes {
      guard case .add = node.spec, node.inputs.count == 2, node.inputs[0] != node.inputs[1] else { continue }
      for (skip, end) in [(node.inputs[0], node.inputs[1]), (node.inputs[1], node.inputs[0])] {
        guard shapes[skip] == shapes[end],
          let branch = branch(from: skip, to: end, in: graph, consumers: consumers, add: node.name)
        else { continue }
        units.append(
          ResidualUnit(add: node.name, skip: skip, nodes: branch.sorted { order[$0]! < order[$1]! }))
        break
      }
    }
    var stages: [ResidualStage] = []
    for unit in units {
      if let i = stages.firstIndex(where: { $0.units.last!.add == unit.skip }) {
        stages[i].units.append(unit)
      } else {
        stages.append(ResidualStage(units: [unit]))
      }
    }
    return stages
  }

  /// The nodes between `skip` (excluded) and `end` (included) when they form a branch that only
  /// `skip` feeds and only `add` reads; nil otherwise.
  private static func branch(
    from skip: String, to end: String, in graph: Graph, consumers: [String: [String]], add: String
  ) -> Set<String>? {
    guard end != skip else { return nil }
    var members: Set<String> = [end]
    var pending = [end]
    while let name = pending.popLast() {
      guard let node = graph.node(named: name), !node.inputs.isEmpty else { return nil }  // reached the input
      for input in node.inputs where input != skip && !members.contains(input) {
        members.insert(input)
        pending.append(input)
      }
    }
    for name in members {
      if graph.outputs.contains(name) { return nil }
      for reader in consumers[name] ?? [] where reader != add && !members.contains(reader) { return nil }
    }
    return members
  }
}

extension Graph {
  /// The same graph with every reader (and output) of `name` reading `target` instead; `name`
  /// and whatever only it needed stay in `nodes` until `keepingOnly(outputs:)` drops them.
  func redirecting(_ name: String, to target: String) -> Graph {
    var g = self
    for i in g.nodes.indices { g.nodes[i].inputs = g.nodes[i].inputs.map { $0 == name ? target : $0 } }
    g.outputs = g.outputs.map { $0 == name ? target : $0 }
    return g
  }
}
