import AdaDistributed
import XCTest

final class ChainSimulatorTests: XCTestCase {
  // Two devices: 1 ms and 0.5 ms of compute; 1,000-byte features and 100-byte results on a
  // 8 Mbit/s link (1 ms and 0.1 ms on the wire) with 2 ms latency.
  let config = ChainSimulator.Config(
    computeMs: [1, 0.5], featureBytes: [1000], resultBytes: 100, link: Link(mbps: 8, latencyMs: 2),
    answerRates: [0, 1])

  func testAnIdleChainAnswersInTheFullPathTime() {
    let sim = ChainSimulator(config: config)
    let r = sim.run(answers: Array(repeating: 1, count: 20), admission: .rate(10))
    // 1 compute + 1 wire + 2 latency + 0.5 compute + 0.1 wire + 2 latency.
    XCTAssertEqual(r.latencyMs["p50"]!, 6.6, accuracy: 1e-9)
    XCTAssertEqual(r.latencyMs["max"]!, 6.6, accuracy: 1e-9)
    XCTAssertEqual(r.maxQueue, [1, 1])
  }

  func testASaturatedChainRunsAtItsSlowestStage() {
    let sim = ChainSimulator(config: config)
    let r = sim.run(answers: Array(repeating: 1, count: 5000), admission: .window(64))
    // Device 0 is busy 1 + 1 ms per task (compute, then its frame on the wire): 500 tasks/s.
    XCTAssertEqual(r.throughput, 500, accuracy: 500 * 0.01)
    // One task in flight at a time: one round trip each.
    let one = sim.run(answers: Array(repeating: 1, count: 200), admission: .window(1))
    XCTAssertEqual(one.throughput, 1000 / 6.6, accuracy: 1000 / 6.6 * 0.01)
  }

  func testExitsAreDrawnAtTheirRatesAndRelieveLaterDevices() {
    var c = config
    c.computeMs = [1, 3]
    c.answerRates = [0.6, 0.4]
    let sim = ChainSimulator(config: c)
    let answers = sim.drawAnswers(20_000, seed: 4)
    XCTAssertEqual(Double(answers.filter { $0 == 0 }.count) / 20_000, 0.6, accuracy: 0.02)
    XCTAssertEqual(answers, sim.drawAnswers(20_000, seed: 4))
    let r = sim.run(answers: answers, admission: .window(64))
    // Device 1 sees 40 % of the tasks at 3 ms each (1.2 ms per admitted task); device 0 is busy
    // 1 ms + 40 % × 1 ms on the wire = 1.4 ms: 714 tasks/s.
    XCTAssertEqual(r.throughput, 1000 / 1.4, accuracy: 1000 / 1.4 * 0.02)
    XCTAssertEqual(r.answeredPerSegment.reduce(0, +), 20_000)
  }
}
