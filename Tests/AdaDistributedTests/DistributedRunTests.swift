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

  func outputSegments(_ d: MDIDeployment) -> [Int: Int] {
    var m: [Int: Int] = [:]
    for s in d.chain.segments { for o in s.outputIndices { m[o] = s.index } }
    return m
  }

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
}
