import AdaIO
import AdaTensor
import Foundation
import TestSupport
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// `adascale replay` on the small test bundle: the report has every policy beside the
/// simulator, and an interrupted or killed replay leaves no helper process behind.
final class ReplayCommandTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = Fixtures.temporaryDirectory("adascale-replay")
    try CLIBundle.write(to: dir.appendingPathComponent("bundle"))
    var g = SeededGenerator(seed: 4)
    try TensorFile.write([("x", Tensor.uniform([64, 4], lo: -1, hi: 1, using: &g))], to: path("x.h5"))
    let labels = Tensor(shape: [64], scalars: (0..<64).map { Float($0 % 3) })
    try TensorFile.write([("y", labels)], to: path("y.h5"))
  }

  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

  func writeTrace(_ rows: [String]) throws -> String {
    let text = (["t,cpu_share,mem_available_mb,battery"] + rows).joined(separator: "\n") + "\n"
    try text.write(toFile: path("trace.csv"), atomically: true, encoding: .utf8)
    return path("trace.csv")
  }

  func testReportHasEveryPolicyBesideTheSimulator() throws {
    let trace = try writeTrace(["0,1.0,64,", "0.4,0.5,32,0.3", "0.8,1.0,64,"])
    let r = try CLI.run([
      "replay", "--bundle", path("bundle"), "--trace", trace, "--input", path("x.h5"), "--labels",
      path("y.h5"),
      "--batch", "8", "--max-hogs", "2", "--warmup", "3", "--json",
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    let adaptive = report["adaptive"] as! [String: Any]
    let fixed = report["fixed"] as! [[String: Any]]
    XCTAssertEqual(fixed.map { $0["policy"] as! String }, ["small", "big"])
    for o in [adaptive] + fixed {
      for key in ["late_rate", "p95_ms", "accuracy", "energy_j", "memory_violations", "simulated_late_rate"] {
        XCTAssertNotNil(o[key], "\(o["policy"]!) has \(key)")
      }
      XCTAssertEqual(o["batches"] as? Int, report["slots"] as? Int, "every policy ran every slot")
    }
    XCTAssertGreaterThan(report["slots"] as! Int, 0)
    XCTAssertEqual((report["rows"] as! [[String: Any]]).count, 3)
    XCTAssertEqual(report["slo_percentile"] as? Double, 0.95)
    XCTAssertEqual(report["injected"] as? [String], ["freq_scale", "battery", "thermal"])
    XCTAssertEqual(report["interrupted"] as? Bool, false)
    XCTAssertTrue(r.stderr.contains("replay: helpers ended"), r.stderr)
    for helper in report["helpers"] as! [[String: Any]] {
      XCTAssertFalse(Self.isAlive(Int32(helper["pid"] as! Int)), "\(helper) ended")
    }
  }

  func testInterruptedReplayLeavesNoHelperRunning() throws {
    // SIGKILL: no handler runs; each helper notices its parent is gone and exits by itself.
    for (signal, code) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143)), (SIGKILL, SIGKILL)] {
      let trace = try writeTrace(["0,1.0,64,", "30,0.4,32,", "60,1.0,64,"])
      let run = try CLI.start(
        [
          "replay", "--bundle", path("bundle"), "--trace", trace, "--input", path("x.h5"), "--batch", "8",
          "--max-hogs", "2", "--warmup", "3",
        ], log: dir.appendingPathComponent("log-\(signal)"))
      let deadline = Date().addingTimeInterval(60)
      while Date() < deadline && run.process.isRunning && !run.log.contains("t=") { usleep(20_000) }
      guard run.process.isRunning,
        let line = run.log.split(separator: "\n").first(where: {
          $0.contains("helpers started")
        })
      else {
        run.kill()
        return XCTFail("the replay did not start: \(run.log)")
      }
      let pids = Self.pids(in: String(line))
      XCTAssertEqual(pids.count, 3, "2 hogs and a balloon: \(line)")
      XCTAssertTrue(pids.allSatisfy(Self.isAlive), "helpers run while the replay does")
      run.kill(signal)
      XCTAssertEqual(run.process.terminationStatus, code, run.log)
      let gone = Date().addingTimeInterval(signal == SIGKILL ? 3 : 0)
      while Date() < gone && pids.contains(where: Self.isAlive) { usleep(20_000) }
      for pid in pids { XCTAssertFalse(Self.isAlive(pid), "helper \(pid) ended after signal \(signal)") }
    }
  }

  func testBadTraceNamesTheFileAndLine() throws {
    let trace = try writeTrace(["0,1.0,64,", "1,1.5,64,"])
    let r = try CLI.run([
      "replay", "--bundle", path("bundle"), "--trace", trace, "--input", path("x.h5"), "--warmup", "1",
    ])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("trace.csv:3"), r.stderr)
    XCTAssertTrue(r.stderr.contains("cpu_share"), r.stderr)
    XCTAssertFalse(r.stderr.contains("helpers started"), "no helper starts for a bad trace")
  }

  /// `(hog0 123, hog1 124, balloon 125)` → the numbers.
  static func pids(in line: String) -> [Int32] {
    guard let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")") else { return [] }
    return line[line.index(after: open)..<close].split(separator: ",").compactMap {
      $0.split(separator: " ").last.flatMap { Int32($0) }
    }
  }

  /// Running (a zombie, or no process, is not).
  static func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    guard let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
  }
}
