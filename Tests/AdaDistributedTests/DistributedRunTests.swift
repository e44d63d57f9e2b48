import AdaBundle
import AdaDistributed
import AdaNN
import AdaTensor
import Foundation
import XCTest

/// The chain over TCP loopback in one process: workers and source are real NIO servers and
/// clients, started and stopped by each test.
final class DistributedRunTests: XCTestCase {
  var bundleDir: String!
  var workers: [MDIWorker] = []

  override func setUpWithError() throws { bundleDir = try MDIBundle.write() }

  override func tearDown() {
    for w in workers { w.stop() }
    workers = []
    try? FileManager.default.removeItem(atPath: bundleDir)
  }

  /// The bundle's variant cut after both exits, thresholds at the median confidence of each exit
  /// over `inputs`, so tasks leave at every segment.
  func deployment(_ inputs: Tensor) throws -> MDIDeployment {
    let loaded = try MDIDeployment.load(
      bundle: try ModelBundle.open(bundleDir), variant: "v01", operatingPoint: "drop-1",
      cutAfter: ["exit1", "exit2"])
    let outs = try Executor(graph: MDIBundle.model.graph).predict(
      inputs, parameters: MDIBundle.model.parameters)
    var rules = loaded.rules
    for j in 0..<2 {
      let c = ExitConfidence.maxSoftmax.scores(outs[j], isProbability: true).sorted()
      rules.thresholds[j] = c[c.count / 2]
    }
    return MDIDeployment(chain: loaded.chain, model: MDIBundle.model, rules: rules)
  }

  /// Starts workers for segments 1… (last first), returns the first worker's endpoint.
  func startWorkers(
    _ d: MDIDeployment, link: Link? = nil, encoding: FeatureEncoding = .float32, pacingMs: Double? = nil
  ) throws -> Endpoint {
    var next: Endpoint? = nil
    for k in stride(from: d.chain.segments.count - 1, through: 1, by: -1) {
      let w = MDIWorker(
        step: try d.step(k), config: .init(next: next, link: link, pacingMs: pacingMs, encoding: encoding))
      let port = try w.start()
      workers.append(w)
      next = Endpoint(host: "127.0.0.1", port: port)
    }
    return next!
  }

  func outputSegments(_ d: MDIDeployment) -> [Int: Int] { d.chain.outputSegments }

  func testDistributedAnswersEqualTheSingleProcessRunBitForBit() throws {
    let x = MDIModels.input(batch: 24, seed: 9)
    let d = try deployment(x)
    let expected = try MDILocal.run(d, inputs: x)
    XCTAssertEqual(
      Set(expected.map(\.segment)), [0, 1, 2], "the thresholds should send tasks to every segment")
    let first = try startWorkers(d)
    let source = MDISource(
      step: try d.step(0), config: .init(next: first, window: 4, timeout: 20),
      outputSegments: outputSegments(d))
    let records = try source.run(inputs: x)
    XCTAssertEqual(records.count, 24)
    for (i, (r, e)) in zip(records, expected).enumerated() {
      XCTAssertNil(r.failure, "task \(i)")
      XCTAssertEqual(r.answer?.outputIndex, e.outputIndex, "task \(i)")
      XCTAssertEqual(r.answer?.segment, e.segment, "task \(i)")
      XCTAssertEqual(r.answer?.output.shape, e.output.shape, "task \(i)")
      XCTAssertTrue(r.answer?.output.scalars == e.output.scalars, "task \(i): outputs differ")
    }
    // The source's own byte counts agree with the per-link count derived from the answers.
    let report = try MDIRunReport(
      records: records, chain: d.chain, devices: ["a", "b", "c"], encoding: .float32,
      labels: (0..<24).map { $0 % 4 }, sourceBytes: source.linkBytes)
    XCTAssertEqual(report.answered, 24)
    XCTAssertEqual(report.links[0].featureBytes, report.sourceBytesSent)
    XCTAssertEqual(report.links[0].resultBytes, report.sourceBytesReceived)
    XCTAssertEqual(report.exits.map(\.count).reduce(0, +), 24)
    XCTAssertNotNil(report.accuracy)
    XCTAssertGreaterThan(report.throughput, 0)
  }

  func testShapedInt8LinksStillAnswerEveryTask() throws {
    let x = MDIModels.input(batch: 8, seed: 10)
    let d = try deployment(x)
    let link = Link(mbps: 50, latencyMs: 1)
    let first = try startWorkers(d, link: link, encoding: .int8)
    let source = MDISource(
      step: try d.step(0), config: .init(next: first, link: link, encoding: .int8, rate: 200, timeout: 20),
      outputSegments: outputSegments(d))
    let records = try source.run(inputs: x)
    XCTAssertEqual(records.filter { $0.answer != nil }.count, 8)
    // An int8 feature frame of relu1 (8×8×8) is 24 + 1 + 16 + 4 + 512 + 4 bytes.
    XCTAssertEqual(MDIRunReport.frameBytes(shapes: [[8, 8, 8]], encoding: .int8), 561)
  }

  func testAMissingWorkerFailsEveryForwardedTaskExactlyOnce() throws {
    let x = MDIModels.input(batch: 12, seed: 11)
    let d = try deployment(x)
    let first = try startWorkers(d)
    workers[0].stop()  // the last segment's worker is gone before the run starts
    let source = MDISource(
      step: try d.step(0), config: .init(next: first, window: 4, timeout: 10),
      outputSegments: outputSegments(d))
    let started = Date()
    let records = try source.run(inputs: x)
    XCTAssertLessThan(Date().timeIntervalSince(started), 10, "failures must come from the closed connection")
    XCTAssertEqual(records.count, 12)
    let expected = try MDILocal.run(d, inputs: x)
    for (r, e) in zip(records, expected) {
      XCTAssertTrue((r.answer == nil) != (r.failure == nil), "answered or failed, never both or neither")
      if e.segment == 2 {
        XCTAssertNotNil(r.failure)
      } else {
        XCTAssertEqual(r.answer?.output.scalars, e.output.scalars)
      }
    }
  }

  func testThresholdAdaptationCarriesEachTasksPointAndMatchesTheLocalRun() throws {
    let x = MDIModels.input(batch: 40, seed: 12)
    var d = try deployment(x)
    // Point 0: nobody leaves early; point 1: the median thresholds.
    var rules = d.rules
    rules.points = [Array(repeating: nil, count: 3), rules.points[0]]
    d = MDIDeployment(chain: d.chain, model: MDIBundle.model, rules: rules)
    let first = try startWorkers(d, pacingMs: 2)
    var config = MDISource.Config(next: first, window: 8, timeout: 20)
    config.points = 2
    config.pointStep = 2
    let source = MDISource(step: try d.step(0), config: config, outputSegments: outputSegments(d))
    let records = try source.run(inputs: x)
    let points = records.map(\.point)
    XCTAssertEqual(points[0], 0, "the first task finds the chain empty")
    XCTAssertTrue(points.contains(1), "a queue of 8 must move tasks to point 1: \(points)")
    let expected = try MDILocal.run(d, inputs: x, points: points)
    for (i, (r, e)) in zip(records, expected).enumerated() {
      XCTAssertEqual(r.answer?.outputIndex, e.outputIndex, "task \(i)")
      XCTAssertTrue(r.answer?.output.scalars == e.output.scalars, "task \(i)")
      if points[i] == 0 { XCTAssertEqual(e.outputIndex, 2, "point 0 has no early exits") }
    }
  }

  func testDropWhenFullRejectsInputsInsteadOfQueueingThem() throws {
    let x = MDIModels.input(batch: 30, seed: 13)
    let d = try deployment(x)
    let first = try startWorkers(d, pacingMs: 20)  // 20 ms per task per worker: 50/s at most
    var config = MDISource.Config(next: first, rate: 500, window: 2, timeout: 20)
    config.dropWhenFull = true
    let source = MDISource(step: try d.step(0), config: config, outputSegments: outputSegments(d))
    let records = try source.run(inputs: x)
    XCTAssertEqual(records.count, 30)
    let rejected = records.filter(\.rejected).count
    let answered = records.filter { $0.answer != nil }.count
    XCTAssertGreaterThan(rejected, 0)
    XCTAssertGreaterThan(answered, 0)
    XCTAssertEqual(rejected + answered, 30, "no failures: \(records.compactMap(\.failure))")
    let report = try MDIRunReport(
      records: records, chain: d.chain, devices: ["a", "b", "c"], encoding: .float32, labels: nil,
      sourceBytes: source.linkBytes)
    XCTAssertEqual(report.rejected, rejected)
    XCTAssertEqual(report.failed, 0)
  }

  // MARK: Re-planning after a lost worker

  /// The test variant cut after `cuts` with the median thresholds of `deployment(_:)`: what the
  /// source and the workers load when they re-plan.
  static func redeploy(_ d: MDIDeployment) -> @Sendable ([String]) throws(AdaError) -> MDIDeployment {
    let (graph, rules) = (d.chain.graph, d.rules)
    return { cuts throws(AdaError) in
      let index = graph.indexByName
      let positions = try cuts.map { (name) throws(AdaError) in
        guard let i = index[name] else { throw AdaError(.invalidValue, path: "cut", "no node \(name)") }
        return i
      }
      return MDIDeployment(
        chain: try SegmentChain(graph: graph, cuts: positions), model: MDIBundle.model, rules: rules)
    }
  }

  /// Source and two workers with re-planning; `lose` (0: the first worker, 1: the last) is
  /// stopped `after` seconds into a run of `n` inputs at 100/s (0: before the run starts). The plan over what remains cuts
  /// after `exit1` (one worker left) or nowhere (none).
  func runLosingAWorker(_ lose: Int, n: Int = 60, after: Double = 0.2) throws -> (
    records: [TaskRecord], expected: [TaskAnswer], source: MDISource
  ) {
    let x = MDIModels.input(batch: n, seed: 14)
    let d = try deployment(x)
    let deploy = Self.redeploy(d)
    var config = MDIWorker.Config()
    config.deploy = deploy
    let last = MDIWorker(step: try d.step(2), config: config)
    let lastPort = try last.start()
    config.next = Endpoint(host: "127.0.0.1", port: lastPort)
    let first = MDIWorker(step: try d.step(1), config: config)
    let firstPort = try first.start()
    workers = [last, first]
    let endpoints = [firstPort, lastPort].map { Endpoint(host: "127.0.0.1", port: $0) }
    var sourceConfig = MDISource.Config(next: endpoints[0], rate: 100, window: 4, timeout: 20)
    sourceConfig.replanning = ChainReplanning(
      workers: endpoints, devices: ["a", "b", "c"], initialCutAfter: ["exit1", "exit2"],
      plan: { alive in [["exit1"], ["exit1", "exit2"]].first { $0.count == alive.count } ?? [] },
      deploy: deploy)
    let source = MDISource(step: try d.step(0), config: sourceConfig, outputSegments: outputSegments(d))
    let victim = lose == 0 ? first : last
    if after > 0 {
      DispatchQueue.global().asyncAfter(deadline: .now() + after) { victim.stop() }
    } else {
      victim.stop()
    }
    let records = try source.run(inputs: x)
    return (records, try MDILocal.run(d, inputs: x), source)
  }

  func assertEveryTaskEndedOnceAndAnswersAreTheLocalOnes(
    _ records: [TaskRecord], _ expected: [TaskAnswer], file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(records.count, expected.count, file: file, line: line)
    for (i, (r, e)) in zip(records, expected).enumerated() {
      XCTAssertTrue(
        (r.answer == nil) != (r.failure == nil), "task \(i): answered or failed, once", file: file, line: line
      )
      if let a = r.answer {
        // Where the chain is cut changes what runs, not what is answered.
        XCTAssertEqual(a.outputIndex, e.outputIndex, "task \(i)", file: file, line: line)
        XCTAssertTrue(
          a.output.scalars == e.output.scalars, "task \(i): outputs differ", file: file, line: line)
      }
    }
  }

  func testALostLastWorkerIsPlannedAroundAndTheRunGoesOn() throws {
    let (records, expected, source) = try runLosingAWorker(1)
    assertEveryTaskEndedOnceAndAnswersAreTheLocalOnes(records, expected)
    let replans = source.replans
    XCTAssertEqual(replans.count, 1, "\(replans)")
    let r = try XCTUnwrap(replans.first)
    XCTAssertNil(r.error)
    XCTAssertEqual(r.goneSegment, 2)
    XCTAssertEqual(r.cutAfterBefore, ["exit1", "exit2"])
    XCTAssertEqual(r.cutAfter, ["exit1"])
    XCTAssertEqual(r.devices, ["a", "b"])
    XCTAssertLessThan(r.seconds, 3)
    let after = records.filter { $0.epoch == 1 }
    XCTAssertGreaterThan(after.count, 10, "tasks admitted after the re-plan")
    XCTAssertTrue(after.allSatisfy { $0.answer != nil }, "\(after.compactMap(\.failure))")
    XCTAssertTrue(after.allSatisfy { ($0.answer?.segment ?? 9) <= 1 }, "two segments after the re-plan")
    XCTAssertEqual(source.replannedChains.map(\.segments.count), [2])
    let report = try MDIRunReport(
      records: records, chain: try deployment(MDIModels.input(batch: 60, seed: 14)).chain,
      devices: ["a", "b", "c"], encoding: .float32, labels: nil, sourceBytes: source.linkBytes,
      replannedChains: source.replannedChains, replans: replans)
    XCTAssertEqual(report.replans.count, 1)
    XCTAssertEqual(Set(report.exits.map(\.epoch)), [0, 1])
    XCTAssertEqual(report.exits.map(\.count).reduce(0, +), report.answered)
  }

  func testALostFirstWorkerIsPlannedAroundThroughTheNextOne() throws {
    let (records, expected, source) = try runLosingAWorker(0)
    assertEveryTaskEndedOnceAndAnswersAreTheLocalOnes(records, expected)
    let r = try XCTUnwrap(source.replans.first)
    XCTAssertNil(r.error)
    XCTAssertEqual(r.goneSegment, 1)
    XCTAssertEqual(r.cutAfter, ["exit1"])
    // The source now sends to the worker that held segment 2, which now holds segment 1.
    XCTAssertEqual(workers[0].step.segment.index, 1)
    let after = records.filter { $0.epoch == 1 }
    XCTAssertGreaterThan(after.count, 10)
    XCTAssertTrue(after.allSatisfy { $0.answer != nil }, "\(after.compactMap(\.failure))")
    XCTAssertTrue(after.contains { $0.answer?.segment == 1 }, "the remaining worker answers some")
  }

  /// The last worker is gone before any task reached the first one, so the first had nobody to
  /// tell: it tells the source with the first task that arrives, and the run is re-planned.
  func testAWorkerLostBeforeAnyTaskIsReportedWithTheFirstOne() throws {
    let (records, expected, source) = try runLosingAWorker(1, after: 0)
    assertEveryTaskEndedOnceAndAnswersAreTheLocalOnes(records, expected)
    let r = try XCTUnwrap(source.replans.first, "no re-plan")
    XCTAssertNil(r.error)
    XCTAssertEqual(r.goneSegment, 2)
    XCTAssertGreaterThan(records.filter { $0.answer != nil }.count, 40)
  }
}
