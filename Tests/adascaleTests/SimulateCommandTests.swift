import Foundation
import TestSupport
import XCTest

/// `adascale simulate`: JSON keys, the comparison on a small trace, errors and exit codes.
final class SimulateCommandTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = Fixtures.temporaryDirectory("adascale-simulate")
    try CLIBundle.write(to: dir.appendingPathComponent("bundle"))
    // small: 1 ms, 0.85, 2 MB; big: 2 ms, 0.9, 8 MB. SLO 2.5 ms (default: 1.25 × big).
    try """
    # a test trace
    t,cpu_share,mem_available_mb,battery
    0,1.0,512,
    1,0.5,512,
    2,0.5,512,
    3,1.0,5,
    4,1.0,512,
    """.write(to: dir.appendingPathComponent("trace.csv"), atomically: true, encoding: .utf8)
  }

  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

  func simulate(_ extra: [String] = []) throws -> CLI.Result {
    try CLI.run(["simulate", "--bundle", path("bundle"), "--trace", path("trace.csv")] + extra)
  }

  func testJSONHasAdaptiveAndOneFixedEntryPerVariantWithTheComparisonKeys() throws {
    let r = try simulate(["--json"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    let keys = ["slo_violation_rate", "mean_accuracy", "energy_j", "switches", "memory_violations"]
    let adaptive = report["adaptive"] as! [String: Any]
    let fixed = report["fixed"] as! [[String: Any]]
    for k in keys {
      XCTAssertNotNil(adaptive[k], "adaptive.\(k)")
      for f in fixed { XCTAssertNotNil(f[k], "fixed.\(k)") }
    }
    XCTAssertEqual(fixed.map { $0["variant"] as! String }, ["small", "big"])
    XCTAssertEqual(report["slo_ms"] as? Double, 2.5)
    // Adaptive: big, small, small, small (5 MB: big does not fit), then held by the dwell.
    XCTAssertEqual(adaptive["memory_violations"] as? Int, 0)
    XCTAssertEqual(adaptive["slo_violation_rate"] as? Double, 0)
    let big = fixed[1]
    XCTAssertEqual(big["slo_violation_rate"] as? Double, 0.4, "cpu 0.5: 4 ms > 2.5 ms on 2 of 5 rows")
    XCTAssertEqual(big["memory_violations"] as? Int, 1)
    XCTAssertEqual(big["switches"] as? Int, 0)
    XCTAssertEqual(adaptive["switches"] as? Int, 1)
    XCTAssertNil(report["steps"], "steps only with --steps")
  }

  func testHumanOutputIsATableWithTheVerdict() throws {
    let r = try simulate(["--steps"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("policy"), r.stdout)
    XCTAssertTrue(r.stdout.contains("adaptive"), r.stdout)
    XCTAssertTrue(r.stdout.contains("fixed big"), r.stdout)
    XCTAssertTrue(
      r.stdout.contains("no fixed variant is both at least as accurate and at most as often late"), r.stdout)
  }

  func testSwitchCostIsMeasuredWithVariantsLoaded() throws {
    let r = try simulate(["--switch-cost", "200", "--json"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    let cost = report["switch_cost"] as! [String: Any]
    XCTAssertEqual(cost["decisions"] as? Int, 200)
    XCTAssertGreaterThan(cost["switches"] as! Int, 0)
    for k in ["mean_us", "p50_us", "p99_us", "max_us"] { XCTAssertNotNil(cost[k] as? Double, k) }
  }

  func testBadTraceNamesFileLineAndColumn() throws {
    try "t,cpu_share,mem_available_mb,battery\n0,1,512,\n1,lots,512,\n"
      .write(to: dir.appendingPathComponent("trace.csv"), atomically: true, encoding: .utf8)
    let r = try simulate()
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(
      r.stderr.contains("trace.csv:3: cpu_share: expected a CPU share in (0, 1], found 'lots'"), r.stderr)
  }

  func testEmptyBundleDirectoryExitsOne() throws {
    let empty = dir.appendingPathComponent("empty")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    let r = try CLI.run(["simulate", "--bundle", empty.path, "--trace", path("trace.csv")])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("bundle directory is empty"), r.stderr)
  }

  func testLUTNamingAnUnknownVariantExitsOne() throws {
    let lut = dir.appendingPathComponent("bundle/lut.json")
    let text = try String(contentsOf: lut, encoding: .utf8)
    try text.replacingOccurrences(of: "\"small\"", with: "\"tiny\"").write(
      to: lut, atomically: true, encoding: .utf8)
    let r = try simulate()
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("lut.json: rows[0].variant"), r.stderr)
  }

  func testMissingTraceExitsOne() throws {
    let r = try CLI.run(["simulate", "--bundle", path("bundle"), "--trace", path("none.csv")])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("none.csv: trace file does not exist"), r.stderr)
  }

  func testHelpHasExamples() throws {
    let r = try CLI.run(["simulate", "--help"])
    XCTAssertEqual(r.status, 0)
    XCTAssertTrue(r.stdout.contains("adascale simulate --bundle"), r.stdout)
  }
}
