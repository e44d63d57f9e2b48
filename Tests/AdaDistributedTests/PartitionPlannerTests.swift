import AdaBundle
import AdaDistributed
import AdaNN
import AdaProfile
import AdaTensor
import XCTest

final class PartitionPlannerTests: XCTestCase {
  /// A chain graph of `n` dense layers (every cut valid, one tensor of `width` scalars crossing).
  func chain(_ n: Int, width: Int = 16) -> Graph {
    var nodes = [Node(name: "in", spec: .input(InputSpec(shape: [width])), inputs: [])]
    for i in 0..<n {
      nodes.append(
        Node(name: "d\(i)", spec: .dense(DenseSpec(units: width)), inputs: [i == 0 ? "in" : "d\(i - 1)"]))
    }
    return Graph(name: "chain", nodes: nodes, outputs: ["d\(n - 1)"])
  }

  func costs(_ ms: [Double], device: String = "d", start: Double = 0) -> NodeCosts {
    NodeCosts(device: device, nodeMs: [0] + ms, segmentStartMs: start)
  }

  /// Every way to cut, evaluated by `describe`: the planner's choice must be the minimum.
  func bruteForceBest(_ problem: PlanningProblem, _ c: [NodeCosts], _ link: Link) -> Double {
    func combos(_ k: Int, from: Int) -> [[Int]] {
      if k == 0 { return [[]] }
      guard from < problem.cuts.count else { return [] }
      return (from..<problem.cuts.count).flatMap { i in combos(k - 1, from: i + 1).map { [i] + $0 } }
    }
    return combos(c.count - 1, from: 0).map {
      PartitionPlanner.describe(problem: problem, costs: c, link: link, encoding: .float32, cutIndices: $0)
        .bottleneckMs
    }.min()!
  }

  func testBalancesComputeAcrossEqualDevicesWithAFreeLink() throws {
    let problem = try PlanningProblem(graph: chain(6), exitRates: [], maxCrossingTensors: 1)
    let c = [costs([1, 1, 1, 1, 1, 1]), costs([1, 1, 1, 1, 1, 1]), costs([1, 1, 1, 1, 1, 1])]
    let plan = try PartitionPlanner.plan(
      problem: problem, costs: c, link: Link(mbps: 1e12, latencyMs: 0), encoding: .float32)
    XCTAssertEqual(plan.cutAfter, ["d1", "d3"])
    XCTAssertEqual(plan.bottleneckMs, 2, accuracy: 1e-6)
    XCTAssertEqual(plan.throughput, 500, accuracy: 1e-3)
  }

  func testLinkTimeIsBytesOverBandwidthPlusLatency() {
    // 16 float32 = 64 bytes = 512 bits at 1 Mbit/s = 0.512 ms, + 2 ms.
    XCTAssertEqual(Link(mbps: 1, latencyMs: 2).ms(bytes: 64), 2.512, accuracy: 1e-12)
    XCTAssertEqual(FeatureEncoding.int8.bytes(elementCounts: [16, 4]), 20 + 8)
  }

  func testASlowLinkMakesTheSourceOnlySend() throws {
    // Sending 64 bytes takes 10.12 ms, more than the whole model (4 ms): the least bad 2-device
    // plan sends the raw input at once (the cut after `in`), and is worse than one device alone.
    let problem = try PlanningProblem(graph: chain(4), exitRates: [], maxCrossingTensors: 1)
    let c = [costs([1, 1, 1, 1]), costs([1, 1, 1, 1])]
    let link = Link(mbps: 0.1, latencyMs: 5)
    let plan = try PartitionPlanner.plan(problem: problem, costs: c, link: link, encoding: .float32)
    XCTAssertEqual(plan.bottleneckMs, bruteForceBest(problem, c, link), accuracy: 1e-9)
    XCTAssertEqual(plan.cutAfter, ["in"])
    XCTAssertGreaterThan(plan.bottleneckMs, 4)
    XCTAssertEqual(plan.stages[0].linkMs, link.ms(bytes: 64), accuracy: 1e-12)
  }

  func testPipelinedLinksChargeTheSenderSerialisationOnly() throws {
    let problem = try PlanningProblem(graph: chain(4), exitRates: [], maxCrossingTensors: 1)
    let c = [costs([1, 1, 1, 1]), costs([1, 1, 1, 1])]
    let link = Link(mbps: 0.512, latencyMs: 5)  // 64 bytes: 1 ms on the wire + 5 ms latency
    let plan = try PartitionPlanner.plan(
      problem: problem, costs: c, link: link, encoding: .float32, pipelined: true)
    // After d0 or d1 the slowest stage takes 3 ms (2 + 1 on the wire, or 3 on device 1).
    XCTAssertEqual(plan.bottleneckMs, 3, accuracy: 1e-9)
    XCTAssertEqual(plan.stages[0].linkMs, 6, accuracy: 1e-9)
    XCTAssertEqual(plan.fullPathLatencyMs, 10, accuracy: 1e-9)
    // Charging the latency too, the least bad plan sends the raw input: 6 ms.
    let waiting = try PartitionPlanner.plan(problem: problem, costs: c, link: link, encoding: .float32)
    XCTAssertEqual(waiting.bottleneckMs, 6, accuracy: 1e-9)
    XCTAssertEqual(waiting.cutAfter, ["in"])
  }

  func testExitsShrinkLaterStagesAndMoveTheSplit() throws {
    let model = MDIModels.model()
    let none = try PlanningProblem(graph: model.graph, exitRates: [0, 0], maxCrossingTensors: 1)
    let exits = try PlanningProblem(graph: model.graph, exitRates: [0.5, 0.3], maxCrossingTensors: 1)
    let n = model.graph.nodes.count
    let c = [costs(Array(repeating: 1, count: n - 1)), costs(Array(repeating: 1, count: n - 1))]
    let link = Link(mbps: 1000, latencyMs: 0)
    let a = try PartitionPlanner.plan(problem: none, costs: c, link: link, encoding: .float32)
    let b = try PartitionPlanner.plan(problem: exits, costs: c, link: link, encoding: .float32)
    XCTAssertLessThan(b.bottleneckMs, a.bottleneckMs)
    XCTAssertEqual(a.bottleneckMs, bruteForceBest(none, c, link), accuracy: 1e-9)
    XCTAssertEqual(b.bottleneckMs, bruteForceBest(exits, c, link), accuracy: 1e-9)
    // Only half the inputs reach the second stage when it starts after exit1.
    if b.stages[1].exits.contains("exit2") { XCTAssertLessThanOrEqual(b.stages[1].arriving, 0.5 + 1e-12) }
    XCTAssertEqual(exits.remaining(after: n - 1), 0.2, accuracy: 1e-12)
  }

  func testRandomProblemsMatchBruteForce() throws {
    var g = SeededGenerator(seed: 3)
    let problem = try PlanningProblem(graph: chain(9), exitRates: [], maxCrossingTensors: 1)
    for _ in 0..<20 {
      let c = (0..<3).map { d in
        costs((0..<9).map { _ in Double(g.next() % 100) / 10 }, device: "d\(d)", start: 0.1)
      }
      let link = Link(mbps: Double(g.next() % 50 + 1) / 100, latencyMs: Double(g.next() % 3))
      let plan = try PartitionPlanner.plan(problem: problem, costs: c, link: link, encoding: .float32)
      XCTAssertEqual(plan.bottleneckMs, bruteForceBest(problem, c, link), accuracy: 1e-9)
    }
  }

  func testTooManyDevicesForTheCutsIsAnErrorNamingTheOption() throws {
    let problem = try PlanningProblem(graph: chain(2), exitRates: [], maxCrossingTensors: 1)
    let c = [costs([1, 1]), costs([1, 1]), costs([1, 1]), costs([1, 1])]
    XCTAssertThrowsError(
      try PartitionPlanner.plan(
        problem: problem, costs: c, link: Link(mbps: 1, latencyMs: 0), encoding: .float32)
    ) { XCTAssertTrue("\($0)".contains("--devices"), "\($0)") }
  }

  func testPlansABundleVariantWithAndWithoutExits() throws {
    let dir = try MDIBundle.write()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let bundle = try ModelBundle.open(dir)
    let request = MDIPlanRequest(
      variant: "v01", devices: ["raspberry-pi-4", "raspberry-pi-4"], link: Link(mbps: 20, latencyMs: 2),
      operatingPoint: "drop-1")
    let report = try MDIPlanning.plan(bundle: bundle, request: request)
    XCTAssertEqual(report.plan.stages.count, 2)
    XCTAssertEqual(report.exitRates.map(\.output), ["exit1", "exit2"])
    XCTAssertEqual(report.exitRates.map(\.rate), [0.3, 0.2])
    XCTAssertNotNil(report.noExitPlan)
    XCTAssertEqual(report.baselines.count, 2)
    XCTAssertLessThanOrEqual(report.plan.bottleneckMs, report.noExitPlan!.bottleneckMs + 1e-12)
    // `late` keeps only exit2: exit1's head is not in the planned graph.
    var late = request
    late.operatingPoint = "late"
    let lateReport = try MDIPlanning.plan(bundle: bundle, request: late)
    XCTAssertFalse(lateReport.cutPoints.contains { $0.after.hasPrefix("exit1") })
    XCTAssertEqual(lateReport.exitRates.map(\.output), ["exit2"])
    // Errors name the field.
    var bad = request
    bad.operatingPoint = "nope"
    XCTAssertThrowsError(try MDIPlanning.plan(bundle: bundle, request: bad)) {
      XCTAssertTrue("\($0)".contains("nope"), "\($0)")
    }
    bad = request
    bad.link.mbps = 0
    XCTAssertThrowsError(try MDIPlanning.plan(bundle: bundle, request: bad)) {
      XCTAssertTrue("\($0)".contains("--link-mbps"), "\($0)")
    }
    bad = request
    bad.devices = ["raspberry-pi-4", "toaster"]
    XCTAssertThrowsError(try MDIPlanning.plan(bundle: bundle, request: bad)) {
      XCTAssertTrue("\($0)".contains("toaster"), "\($0)")
    }
  }
}
