import AdaNN
import AdaTensor

/// A link between two neighbouring devices of the chain.
public struct Link: Codable, Hashable, Sendable {
  /// Bandwidth, megabits per second (10⁶ bit/s).
  public var mbps: Double
  /// One-way latency added to every message, ms.
  public var latencyMs: Double

  public init(mbps: Double, latencyMs: Double) {
    self.mbps = mbps
    self.latencyMs = latencyMs
  }

  /// Time to send `bytes` in one message: `bytes · 8 / bandwidth + latency`, ms.
  public func ms(bytes: Int) -> Double { Double(bytes) * 8 / (mbps * 1e3) + latencyMs }

  /// How long the sender is busy with one message: all of `ms(bytes:)` for a sender that waits
  /// for each message to arrive (`pipelined` false), the serialisation `bytes · 8 / bandwidth`
  /// alone when messages in flight overlap (`pipelined`, as `ShapedLink` emulates).
  public func busyMs(bytes: Int, pipelined: Bool) -> Double {
    pipelined ? Double(bytes) * 8 / (mbps * 1e3) : ms(bytes: bytes)
  }

  enum CodingKeys: String, CodingKey {
    case mbps, latencyMs = "latency_ms"
  }
}

/// How crossing features travel (docs/mdi.md, "Wire format").
public enum FeatureEncoding: String, Codable, Hashable, Sendable, CaseIterable {
  /// 4 bytes per scalar, exact.
  case float32
  /// 1 byte per scalar plus a 4-byte scale per tensor (symmetric, per tensor).
  case int8

  /// Payload bytes of one example's tensors of `elementCounts` scalars each (frame headers not
  /// included).
  public func bytes(elementCounts: [Int]) -> Int {
    switch self {
    case .float32: elementCounts.reduce(0, +) * 4
    case .int8: elementCounts.reduce(0, +) + 4 * elementCounts.count
    }
  }
}

/// What the planner needs to know about a graph, independent of devices: where it may be cut,
/// what crosses each cut, and where inputs leave.
public struct PlanningProblem: Sendable {
  /// Node names, in order (for printing ranges).
  public var nodeNames: [String]
  /// Candidate cut points (valid ones), ascending by position.
  public var cuts: [CutPoint]
  /// Per graph output (exits in depth order, the final output last): its node position and the
  /// share of admitted inputs that leave there (0 for the final output; the rates of the exits
  /// need not sum to 1: the rest reach the final output).
  public var exits: [(name: String, position: Int, rate: Double)]

  public init(graph: Graph, exitRates: [Double], maxCrossingTensors: Int) throws(AdaError) {
    let index = graph.indexByName
    nodeNames = graph.nodes.map(\.name)
    cuts = try CutPoint.all(in: graph).filter { $0.isValid(maxTensors: maxCrossingTensors) }
    precondition(exitRates.count <= graph.outputs.count, "PlanningProblem: more rates than outputs")
    exits = zip(graph.outputs, exitRates).map { ($0, index[$0]!, $1) }
  }

  /// Share of admitted inputs still going after node `position` (exits at or before it taken).
  public func remaining(after position: Int) -> Double {
    max(0, 1 - exits.filter { $0.position <= position }.reduce(0) { $0 + $1.rate })
  }
}

/// One stage of a plan: a segment on its device, and what it sends to the next.
public struct StagePlan: Codable, Hashable, Sendable {
  public var device: String
  /// First and last node of the segment.
  public var firstNode: String
  public var lastNode: String
  public var nodeCount: Int
  /// Share of admitted inputs that reach this stage.
  public var arriving: Double
  /// Compute for one arriving input on this device, ms.
  public var computeMs: Double
  /// Exits held here and the share of admitted inputs leaving at each.
  public var exits: [String]
  public var exitRates: [Double]
  /// Tensors sent to the next stage and their bytes per input (0 for the last stage).
  public var sends: [String]
  public var sendBytes: Int
  /// Share of admitted inputs sent on.
  public var forwarded: Double
  /// Link time for one forwarded input, ms.
  public var linkMs: Double
  /// Busy time of this stage per admitted input: `arriving · compute + forwarded · link`, ms
  /// (with pipelined links, the link's serialisation time only).
  public var stageMs: Double

  enum CodingKeys: String, CodingKey {
    case device, firstNode = "first_node", lastNode = "last_node", nodeCount = "node_count", arriving
    case computeMs = "compute_ms", exits, exitRates = "exit_rates", sends, sendBytes = "send_bytes"
    case forwarded, linkMs = "link_ms", stageMs = "stage_ms"
  }
}

/// A chosen split: cut positions, the stages and the steady-state throughput they give.
public struct PartitionPlan: Codable, Hashable, Sendable {
  public var cuts: [Int]
  /// Names of the nodes after which the graph is cut.
  public var cutAfter: [String]
  public var stages: [StagePlan]
  /// The slowest stage's busy time per admitted input, ms.
  public var bottleneckMs: Double
  /// Index of the slowest stage.
  public var bottleneckStage: Int
  /// Steady-state inputs per second: 1000 / bottleneck.
  public var throughput: Double
  /// Latency of an input that reaches the final output, with empty queues: Σ compute + links, ms.
  public var fullPathLatencyMs: Double

  enum CodingKeys: String, CodingKey {
    case cuts, cutAfter = "cut_after", stages, bottleneckMs = "bottleneck_ms"
    case bottleneckStage = "bottleneck_stage", throughput, fullPathLatencyMs = "full_path_latency_ms"
  }
}

/// Splits a graph over a chain of devices to maximise steady-state throughput (MDI, arXiv
/// 2408.05247). Stage `i` holds the nodes between cuts `i − 1` and `i` on device `i`; per
/// admitted input it is busy for
///
///     stage_i = arriving_i · (Σ node_ms on device i + segment start)
///             + forwarded_i · (send bytes · 8 / bandwidth + link latency)
///
/// where `arriving_i` is the share of inputs that did not leave at an exit in an earlier segment
/// and `forwarded_i` the share still going after segment `i` (exits are decided at the end of
/// the segment holding them). The sender is busy while it sends, latency included (it waits for
/// each message to arrive); with `pipelined` only for the serialisation time (messages in flight
/// overlap, as `ShapedLink` emulates: latency then adds to each input's latency, not to the
/// stage). Throughput is `1 / max_i stage_i`; ties go to the smaller Σ stage_i. Every
/// combination of valid cuts is tried (with pruning): exact.
public enum PartitionPlanner {
  public static func plan(
    problem: PlanningProblem, costs: [NodeCosts], link: Link, encoding: FeatureEncoding,
    pipelined: Bool = false
  ) throws(AdaError) -> PartitionPlan {
    let k = costs.count
    precondition(k >= 1, "PartitionPlanner: no devices")
    let n = problem.nodeNames.count
    guard problem.cuts.count >= k - 1 else {
      throw AdaError(
        .invalidValue, path: "--devices",
        "\(k) devices need \(k - 1) cut points, the graph has \(problem.cuts.count) valid ones")
    }
    // Prefix sums of node costs per device.
    let prefix = costs.map { c in c.nodeMs.reduce(into: [0.0]) { $0.append($0.last! + $1) } }
    func stage(_ i: Int, from a: Int, to b: Int, cutIndex: Int?) -> Double {
      let arriving = a < 0 ? 1 : problem.remaining(after: a)
      let compute = prefix[i][b + 1] - prefix[i][a + 1] + costs[i].segmentStartMs
      guard let cutIndex else { return arriving * compute }
      let cut = problem.cuts[cutIndex]
      let bytes = encoding.bytes(elementCounts: cut.shapes.map(\.elementCount))
      return arriving * compute + problem.remaining(after: b)
        * link.busyMs(bytes: bytes, pipelined: pipelined)
    }
    var best: (max: Double, sum: Double, cuts: [Int])? = nil
    var chosen: [Int] = []
    func search(_ i: Int, from a: Int, minCut: Int, max m: Double, sum s: Double) {
      if let best, m > best.max + 1e-12 { return }
      if i == k - 1 {
        let t = stage(i, from: a, to: n - 1, cutIndex: nil)
        let total = (max(m, t), s + t)
        if best == nil || total.0 < best!.max - 1e-12
          || (abs(total.0 - best!.max) <= 1e-12 && total.1 < best!.sum)
        {
          best = (total.0, total.1, chosen)
        }
        return
      }
      let left = k - 1 - i  // cuts still to place, this one included
      guard minCut <= problem.cuts.count - left else { return }
      for c in minCut...(problem.cuts.count - left) {
        let t = stage(i, from: a, to: problem.cuts[c].position, cutIndex: c)
        chosen.append(c)
        search(i + 1, from: problem.cuts[c].position, minCut: c + 1, max: max(m, t), sum: s + t)
        chosen.removeLast()
      }
    }
    search(0, from: -1, minCut: 0, max: 0, sum: 0)
    return describe(
      problem: problem, costs: costs, link: link, encoding: encoding, cutIndices: best!.cuts,
      pipelined: pipelined)
  }

  /// The plan for given cuts (indices into `problem.cuts`), stage by stage.
  public static func describe(
    problem: PlanningProblem, costs: [NodeCosts], link: Link, encoding: FeatureEncoding, cutIndices: [Int],
    pipelined: Bool = false
  ) -> PartitionPlan {
    let bounds = [-1] + cutIndices.map { problem.cuts[$0].position } + [problem.nodeNames.count - 1]
    var stages: [StagePlan] = []
    var latency = 0.0
    for i in 0..<costs.count {
      let a = bounds[i]
      let b = bounds[i + 1]
      let arriving = a < 0 ? 1 : problem.remaining(after: a)
      let compute = costs[i].nodeMs[(a + 1)...b].reduce(0, +) + costs[i].segmentStartMs
      let held = problem.exits.filter { $0.position > a && $0.position <= b && $0.rate > 0 }
      var sends: [String] = []
      var bytes = 0
      var forwarded = 0.0
      var linkMs = 0.0
      var busyMs = 0.0
      if i < cutIndices.count {
        let cut = problem.cuts[cutIndices[i]]
        sends = cut.crossing
        bytes = encoding.bytes(elementCounts: cut.shapes.map(\.elementCount))
        forwarded = problem.remaining(after: b)
        linkMs = link.ms(bytes: bytes)
        busyMs = link.busyMs(bytes: bytes, pipelined: pipelined)
      }
      latency += compute + linkMs
      stages.append(
        StagePlan(
          device: costs[i].device, firstNode: problem.nodeNames[a + 1], lastNode: problem.nodeNames[b],
          nodeCount: b - a, arriving: arriving, computeMs: compute, exits: held.map(\.name),
          exitRates: held.map(\.rate), sends: sends, sendBytes: bytes, forwarded: forwarded,
          linkMs: linkMs, stageMs: arriving * compute + forwarded * busyMs))
    }
    let slowest = stages.indices.max { stages[$0].stageMs < stages[$1].stageMs }!
    let bottleneck = stages[slowest].stageMs
    return PartitionPlan(
      cuts: cutIndices.map { problem.cuts[$0].position }, cutAfter: cutIndices.map { problem.cuts[$0].after },
      stages: stages, bottleneckMs: bottleneck, bottleneckStage: slowest,
      throughput: bottleneck > 0 ? 1000 / bottleneck : .infinity, fullPathLatencyMs: latency)
  }
}
