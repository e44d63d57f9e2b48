import AdaBundle
import AdaFormats
import AdaNN
import AdaProfile
import AdaTensor
import Foundation

/// What `adascale mdi plan` asks: a bundle's variant over a chain of devices joined by one kind
/// of link, optionally with an early-exit operating point.
public struct MDIPlanRequest: Sendable {
  public var variant: String
  /// Device names or `.yaml` paths, source first.
  public var devices: [String]
  public var link: Link
  /// Operating point name (`Manifest.OperatingPoint.name`); nil: no early exits.
  public var operatingPoint: String?
  public var encoding: FeatureEncoding
  /// Cuts with more tensors crossing are not considered.
  public var maxCrossingTensors: Int
  /// Charge senders the serialisation time only, not the link latency (`Link.busyMs`).
  public var pipelinedLinks = false

  public init(
    variant: String, devices: [String], link: Link, operatingPoint: String? = nil,
    encoding: FeatureEncoding = .float32, maxCrossingTensors: Int = 2
  ) {
    self.variant = variant
    self.devices = devices
    self.link = link
    self.operatingPoint = operatingPoint
    self.encoding = encoding
    self.maxCrossingTensors = maxCrossingTensors
  }

  /// Checks the numbers; errors name the option.
  public func validate() throws(AdaError) {
    guard !devices.isEmpty else { throw AdaError(.invalidValue, path: "--devices", "no devices given") }
    guard link.mbps.isFinite, link.mbps > 0 else {
      throw AdaError(
        .invalidValue, path: "--link-mbps", "expected a bandwidth > 0 Mbit/s, found \(link.mbps)")
    }
    guard link.latencyMs.isFinite, link.latencyMs >= 0 else {
      throw AdaError(
        .invalidValue, path: "--link-ms", "expected a link latency ≥ 0 ms, found \(link.latencyMs)")
    }
    guard maxCrossingTensors >= 1 else {
      throw AdaError(
        .invalidValue, path: "--max-crossing", "expected at least 1 tensor, found \(maxCrossingTensors)")
    }
  }
}

/// The planner's answer with its baselines.
public struct MDIPlanReport: Codable, Sendable {
  public struct Baseline: Codable, Hashable, Sendable {
    public var name: String
    /// Busy time per admitted input of the slowest device, ms.
    public var bottleneckMs: Double
    public var throughput: Double
    enum CodingKeys: String, CodingKey { case name, bottleneckMs = "bottleneck_ms", throughput }
  }
  public var variant: String
  public var graph: String
  public var devices: [String]
  public var link: Link
  public var pipelinedLinks: Bool
  public var encoding: FeatureEncoding
  public var operatingPoint: String?
  /// One kept exit and the share of admitted inputs leaving there (the operating point's
  /// validation rate).
  public struct ExitRate: Codable, Hashable, Sendable {
    public var output: String
    public var rate: Double
  }
  /// The kept exits in depth order.
  public var exitRates: [ExitRate]
  /// Every valid cut point: position, node, crossing tensors, bytes per input.
  public var cutPoints: [CutPoint]
  /// The best split with early exits (or without, when no operating point was given).
  public var plan: PartitionPlan
  /// The best split of the same devices, nobody exiting early (nil when no operating point).
  public var noExitPlan: PartitionPlan?
  /// The whole variant on the first device alone: without exits, and with exits per input.
  public var baselines: [Baseline]
  /// Nodes timed by the roofline fallback on some device (no table row).
  public var fallbackNodes: [String]
  /// The chosen plan as the discrete-event simulator takes it (whole frames, headers included).
  public var simulation: ChainSimulator.Config

  enum CodingKeys: String, CodingKey {
    case variant, graph, devices, link, pipelinedLinks = "pipelined_links", encoding, operatingPoint =
      "operating_point"
    case exitRates = "exit_rates", cutPoints = "cut_points", plan, noExitPlan = "no_exit_plan", baselines
    case fallbackNodes = "fallback_nodes", simulation
  }
}

/// Plans a bundle's variant (docs/mdi.md, "Planner").
public enum MDIPlanning {
  /// The graph a chain runs: the variant's multi-exit graph keeping the exits the operating
  /// point uses (threshold not nil) and the final output, or the static variant's graph.
  public static func loadGraph(bundle: ModelBundle, variant: String, operatingPoint: String?)
    throws(AdaError) -> (model: Model, thresholds: [Float], rates: [Double], exitNames: [String])
  {
    let loaded = try loadGraph(
      bundle: bundle, variant: variant, operatingPoints: operatingPoint.map { [$0] } ?? [])
    return (loaded.model, loaded.thresholds.first?.compactMap { $0 } ?? [], loaded.rates, loaded.exitNames)
  }

  /// The graph for several operating points (queue-aware threshold adaptation): the exits any
  /// of them uses, in depth order, and per point one threshold per kept exit (nil: that point
  /// does not use it). `rates` are the first point's.
  public static func loadGraph(bundle: ModelBundle, variant: String, operatingPoints names: [String])
    throws(AdaError) -> (model: Model, thresholds: [[Float?]], rates: [Double], exitNames: [String])
  {
    _ = try bundle.variant(variant)
    guard !names.isEmpty else {
      let (model, _) = try bundle.loadVariant(variant)
      return (model, [], [], [])
    }
    let points = try names.map { (n) throws(AdaError) in try bundle.operatingPoint(n, variant: variant) }
    let (model, _, plan) = try bundle.loadExitVariant(variant)
    let kept = plan.exits.indices.filter { j in points.contains { $0.thresholds[j] != nil } }
    let keep = kept.map { plan.exits[$0].output }
    let graph = model.graph.keepingOnly(outputs: keep + [model.graph.outputs.last!]).orderedForEarlyOutputs()
    let nodeNames = Set(graph.nodes.map(\.name))
    let params = Parameters(
      model.parameters.tensors.filter { nodeNames.contains(String($0.key[..<$0.key.lastIndex(of: "/")!])) })
    return (
      Model(graph: graph, parameters: params), points.map { p in kept.map { p.thresholds[$0] } },
      kept.map { points[0].exitRates[$0] }, keep
    )
  }

  public static func plan(bundle: ModelBundle, request: MDIPlanRequest) throws(AdaError) -> MDIPlanReport {
    try request.validate()
    let profiles = try request.devices.map { (d) throws(AdaError) in
      do throws(AdaError) {
        return try DeviceCatalog.resolve(d)
      } catch {
        throw AdaError(error.kind, file: error.file, path: "--devices", error.message, hint: error.hint)
      }
    }
    let tablePath = ModelBundle.path(bundle.directory, "ops-lut.json")
    guard FileManager.default.fileExists(atPath: tablePath) else {
      throw AdaError(
        .missing, file: tablePath, "the bundle has no per-op table (ops-lut.json)",
        hint: "compress with profiling on, or write one with `adascale profile --output`")
    }
    let table = try OpTable.load(path: tablePath)
    let loaded = try loadGraph(
      bundle: bundle, variant: request.variant, operatingPoint: request.operatingPoint)
    let graph = loaded.model.graph
    let problem = try PlanningProblem(
      graph: graph, exitRates: loaded.rates, maxCrossingTensors: request.maxCrossingTensors)
    let costs = try profiles.map { (p) throws(AdaError) in
      try NodeCosts.estimate(graph: graph, table: table, device: p)
    }
    let plan = try PartitionPlanner.plan(
      problem: problem, costs: costs, link: request.link, encoding: request.encoding,
      pipelined: request.pipelinedLinks)

    var noExit: PartitionPlan? = nil
    let staticGraph = graph.keepingOnly(outputs: [graph.outputs.last!])
    let staticProblem = try PlanningProblem(
      graph: staticGraph, exitRates: [], maxCrossingTensors: request.maxCrossingTensors)
    let staticCosts = try profiles.map { (p) throws(AdaError) in
      try NodeCosts.estimate(graph: staticGraph, table: table, device: p)
    }
    if request.operatingPoint != nil {
      noExit = try PartitionPlanner.plan(
        problem: staticProblem, costs: staticCosts, link: request.link, encoding: request.encoding,
        pipelined: request.pipelinedLinks)
    }
    let single = staticCosts[0].nodeMs.reduce(0, +) + staticCosts[0].segmentStartMs
    var baselines = [
      MDIPlanReport.Baseline(
        name: "\(profiles[0].name) alone, no exits", bottleneckMs: single, throughput: 1000 / single)
    ]
    if request.operatingPoint != nil {
      // A per-input executor on one device: each node runs for the inputs still going before it.
      var perInput = costs[0].segmentStartMs
      for (i, ms) in costs[0].nodeMs.enumerated() {
        perInput += ms * (i == 0 ? 1 : problem.remaining(after: i - 1))
      }
      baselines.append(
        .init(
          name: "\(profiles[0].name) alone, with exits", bottleneckMs: perInput, throughput: 1000 / perInput))
    }
    let shapes = try graph.inferShapes()
    let simulation = ChainSimulator.Config(
      computeMs: plan.stages.map(\.computeMs),
      featureBytes: plan.cuts.map { p in
        MDIRunReport.frameBytes(
          shapes: problem.cuts.first { $0.position == p }!.shapes, encoding: request.encoding)
      },
      resultBytes: MDIRunReport.frameBytes(shapes: [shapes[graph.outputs.last!]!], encoding: .float32),
      link: request.link, answerRates: plan.stages.map { $0.exitRates.reduce(0, +) })
    return MDIPlanReport(
      variant: request.variant, graph: graph.name, devices: profiles.map(\.name), link: request.link,
      pipelinedLinks: request.pipelinedLinks,
      encoding: request.encoding, operatingPoint: request.operatingPoint,
      exitRates: zip(loaded.exitNames, loaded.rates).map { MDIPlanReport.ExitRate(output: $0, rate: $1) },
      cutPoints: problem.cuts, plan: plan, noExitPlan: noExit, baselines: baselines,
      fallbackNodes: Array(Set(costs.flatMap(\.fallbackNodes))).sorted(), simulation: simulation)
  }
}
