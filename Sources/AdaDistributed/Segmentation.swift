import AdaNN
import AdaTensor

/// A place to cut a graph: after node `position` (in topological order), the activations
/// computed at or before it and read after it (or needed by a later graph output) cross the cut.
///
///     let cuts = try CutPoint.all(in: graph)           // one per position 0..<nodes.count − 1
///     let small = cuts.filter { $0.isValid(maxTensors: 2) }
public struct CutPoint: Codable, Hashable, Sendable {
  /// Index of the last node before the cut.
  public var position: Int
  /// Name of that node.
  public var after: String
  /// Nodes whose outputs cross the cut, in node order (residual connections give several).
  public var crossing: [String]
  /// Per-example shapes of the crossing tensors, batch excluded, e.g. `[[8, 8, 16]]`.
  public var shapes: [[Int]]
  /// Whether every crossing tensor feeds the final output (a cut inside an exit head, where a
  /// head's intermediate would cross, is not one a pipeline wants: the exit could not be decided
  /// before the cut).
  public var onBackbone: Bool

  /// Scalars per example that cross (Σ over crossing tensors of their element counts).
  public var scalarsPerExample: Int { shapes.reduce(0) { $0 + $1.elementCount } }

  /// A cut worth planning with: on the backbone and at most `maxTensors` tensors crossing.
  public func isValid(maxTensors: Int) -> Bool { onBackbone && crossing.count <= maxTensors }

  /// Every cut of `graph` (after each node but the last), with what crosses it.
  public static func all(in graph: Graph) throws(AdaError) -> [CutPoint] {
    let shapes = try graph.inferShapes()
    let index = graph.indexByName
    // lastUse[i]: the last node reading node i. Graph outputs do not cross: the segment holding
    // one emits it (unless a later node reads it too).
    var lastUse = Array(graph.nodes.indices)
    for (i, node) in graph.nodes.enumerated() {
      for input in node.inputs { lastUse[index[input]!] = max(lastUse[index[input]!], i) }
    }
    let backbone = Self.ancestors(of: graph.outputs.last!, in: graph)
    var cuts: [CutPoint] = []
    for p in 0..<(graph.nodes.count - 1) {
      let crossing = (0...p).filter { lastUse[$0] > p }.map { graph.nodes[$0].name }
      cuts.append(
        CutPoint(
          position: p, after: graph.nodes[p].name, crossing: crossing,
          shapes: crossing.map { shapes[$0]! }, onBackbone: crossing.allSatisfy(backbone.contains)))
    }
    return cuts
  }

  /// `name` and every node it reads, directly or not.
  static func ancestors(of name: String, in graph: Graph) -> Set<String> {
    var needed: Set<String> = [name]
    for node in graph.nodes.reversed() where needed.contains(node.name) { needed.formUnion(node.inputs) }
    return needed
  }
}

/// One link of a chain of sub-graphs cut from a graph: the nodes between two cuts, what it reads
/// from the segment before it, what it hands to the next, and the graph outputs (exits) it holds.
public struct Segment: Codable, Hashable, Sendable {
  /// 0 for the segment holding the graph input.
  public var index: Int
  /// The nodes, in the graph's topological order; the first segment's include the input node.
  public var nodes: [Node]
  /// Tensors received from the previous segment (empty for the first: it reads the graph input).
  public var inputs: [String]
  /// Tensors sent to the next segment (empty for the last).
  public var sends: [String]
  /// Graph outputs computed here, in graph-output order (exits in depth order, the final output
  /// last).
  public var outputs: [String]
  /// For each entry of `outputs`, its position in the whole graph's `outputs`.
  public var outputIndices: [Int]

  /// Names of the nodes this segment holds.
  public var nodeNames: Set<String> { Set(nodes.map(\.name)) }

  /// The parameters this segment needs (its own nodes' `node/name` keys), and nothing else: a
  /// worker holds only its segment's weights.
  public func parameters(from all: Parameters) -> Parameters {
    let names = nodeNames
    return Parameters(
      all.tensors.filter { key, _ in
        guard let slash = key.lastIndex(of: "/") else { return false }
        return names.contains(String(key[..<slash]))
      })
  }
}

/// A graph cut into a chain of segments at chosen cut points.
///
///     let chain = try SegmentChain(graph: g, cuts: [12, 30])   // three segments
///     let outs = chain.predict(x, parameters: p)                // == Executor.predict, bit for bit
public struct SegmentChain: Codable, Hashable, Sendable {
  public var graph: Graph
  /// Cut positions (node indices after which the graph is cut), ascending.
  public var cuts: [Int]
  public var segments: [Segment]

  /// For each graph output, the index of the segment that holds it.
  public var outputSegments: [Int: Int] {
    var m: [Int: Int] = [:]
    for s in segments { for o in s.outputIndices { m[o] = s.index } }
    return m
  }

  /// Cuts `graph` after each position in `cuts` (strictly ascending, each in
  /// `0..<nodes.count − 1`). An empty `cuts` gives one segment, the whole graph.
  public init(graph: Graph, cuts: [Int]) throws(AdaError) {
    let all = try CutPoint.all(in: graph)
    for (k, c) in cuts.enumerated() {
      guard all.indices.contains(c), k == 0 || cuts[k - 1] < c else {
        throw AdaError(
          .invalidValue, path: "cuts[\(k)]",
          "cut positions must ascend strictly within 0..<\(all.count), found \(cuts)")
      }
    }
    self.graph = graph
    self.cuts = cuts
    let bounds = [-1] + cuts + [graph.nodes.count - 1]
    var segments: [Segment] = []
    for k in 0..<(bounds.count - 1) {
      let range = (bounds[k] + 1)...bounds[k + 1]
      let nodes = Array(graph.nodes[range])
      let names = Set(nodes.map(\.name))
      let outputs = graph.outputs.enumerated().filter { names.contains($0.element) }
      segments.append(
        Segment(
          index: k, nodes: nodes, inputs: k == 0 ? [] : all[bounds[k]].crossing,
          sends: k == bounds.count - 2 ? [] : all[bounds[k + 1]].crossing,
          outputs: outputs.map(\.element), outputIndices: outputs.map(\.offset)))
    }
    self.segments = segments
  }

  /// Runs every segment in turn on `x` (`[N] + graph.inputShape`) and returns the graph's
  /// outputs in `graph.outputs` order: the same values `Executor.predict` gives.
  public func predict(_ x: Tensor, parameters: Parameters) throws(AdaError) -> [Tensor] {
    var carried: [String: Tensor] = [:]
    var outputs = [Tensor?](repeating: nil, count: graph.outputs.count)
    for segment in segments {
      let runner = try SegmentRunner(segment: segment, graph: graph)
      let result = runner.run(input: segment.index == 0 ? x : nil, received: carried, parameters: parameters)
      carried = result.sends
      for (o, t) in zip(segment.outputIndices, result.outputs) { outputs[o] = t }
    }
    return outputs.map { $0! }
  }
}

extension Graph {
  /// The same graph with its nodes in a topological order that computes each output as early
  /// as possible: every node goes with the first output (in `outputs` order) it feeds, and
  /// nodes are emitted by that output, then by their old position. A multi-exit file may list
  /// the exit heads after the whole backbone; here each head follows the backbone nodes it
  /// needs, so a cut can fall right after an exit. Same nodes and edges, so the same values.
  public func orderedForEarlyOutputs() -> Graph {
    let index = indexByName
    var firstOutput = [Int](repeating: outputs.count, count: nodes.count)
    for (o, name) in outputs.enumerated().reversed() {
      for a in CutPoint.ancestors(of: name, in: self) { firstOutput[index[a]!] = o }
    }
    var waiting = nodes.map { Set($0.inputs).count }
    var readers = [[Int]](repeating: [], count: nodes.count)
    for (i, node) in nodes.enumerated() { for input in Set(node.inputs) { readers[index[input]!].append(i) } }
    var ready = nodes.indices.filter { waiting[$0] == 0 }
    var order: [Int] = []
    while !ready.isEmpty {
      let pick = ready.indices.min {
        (firstOutput[ready[$0]], ready[$0]) < (firstOutput[ready[$1]], ready[$1])
      }!
      let i = ready.remove(at: pick)
      order.append(i)
      for r in readers[i] {
        waiting[r] -= 1
        if waiting[r] == 0 { ready.append(r) }
      }
    }
    precondition(order.count == nodes.count, "orderedForEarlyOutputs: the graph has a cycle")
    return Graph(name: name, nodes: order.map { nodes[$0] }, outputs: outputs)
  }
}
