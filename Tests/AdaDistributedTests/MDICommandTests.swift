import AdaBundle
import AdaDistributed
import AdaIO
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// `adascale mdi plan / serve / run` as a user runs them: help, errors and exit codes, and a
/// chain of real processes on loopback (each ended by its pid).
final class MDICommandTests: XCTestCase {
  var bundle: String!
  var dir: URL!

  override func setUpWithError() throws {
    bundle = try MDIBundle.write()
    dir = Fixtures.temporaryDirectory("adascale-mdi-cli")
  }

  override func tearDown() {
    try? FileManager.default.removeItem(atPath: bundle)
    try? FileManager.default.removeItem(at: dir)
  }

  func plan(_ extra: [String]) throws -> CLI.Result {
    try CLI.run(["mdi", "plan", "--bundle", bundle, "--variant", "v01"] + extra, timeout: 60)
  }

  func testPlanPrintsStagesAndBaselines() throws {
    let r = try plan(["--devices", "raspberry-pi-4,raspberry-pi-4", "--exits", "drop-1", "--cuts"])
    XCTAssertEqual(r.status, 0, r.stderr)
    for text in [
      "plan: cut after", "the same devices without early exits", "raspberry-pi-4 alone, no exits",
      "raspberry-pi-4 alone, with exits", "exit rates (validation): exit1 30.0%, exit2 20.0%", "--cut-after",
    ] {
      XCTAssertTrue(r.stdout.contains(text), "missing '\(text)' in:\n\(r.stdout)")
    }
  }

  func testPlanJSONHasOneStagePerDevice() throws {
    let r = try plan([
      "--devices", "raspberry-pi-4,jetson-nano-cpu,raspberry-pi-4", "--link-mbps", "50", "--json",
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    let plan = json["plan"] as! [String: Any]
    XCTAssertEqual(
      (plan["stages"] as! [[String: Any]]).map { $0["device"] as! String },
      ["raspberry-pi-4", "jetson-nano-cpu", "raspberry-pi-4"])
    XCTAssertEqual((plan["cut_after"] as! [String]).count, 2)
    XCTAssertNil(json["no_exit_plan"])
    XCTAssertFalse((json["cut_points"] as! [Any]).isEmpty)
  }

  func testHelpShowsExamples() throws {
    for sub in ["plan", "serve", "run"] {
      let r = try CLI.run(["mdi", sub, "--help"])
      XCTAssertEqual(r.status, 0)
      XCTAssertTrue(r.stdout.contains("Examples:"), r.stdout)
    }
  }

  func testBadInputNamesTheFieldAndExitsOne() throws {
    let cases: [([String], String)] = [
      (["--devices", "raspberry-pi-4,toaster"], "--devices"),
      (["--devices", "raspberry-pi-4,toaster"], "toaster"),
      (["--devices", "raspberry-pi-4", "--exits", "fastest"], "fastest"),
      (["--devices", "raspberry-pi-4", "--link-mbps=0"], "--link-mbps"),
      (["--devices", "raspberry-pi-4", "--link-mbps", "nan"], "--link-mbps"),
      (["--devices", "raspberry-pi-4", "--link-ms=-1"], "--link-ms"),
      (["--devices", "raspberry-pi-4", "--features", "fp16"], "--features"),
      (["--devices", "raspberry-pi-4,"], "--devices"),
      (["--devices", "raspberry-pi-4", "--exits", "drop-1,late"], "--exits"),
      (["--devices", "raspberry-pi-4", "--simulate", "0"], "--simulate"),
    ]
    for (args, field) in cases {
      let r = try plan(args)
      XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
      XCTAssertTrue(r.stderr.contains(field), "\(args): expected \(field) in \(r.stderr)")
    }
    let r = try CLI.run([
      "mdi", "plan", "--bundle", bundle, "--variant", "v09", "--devices", "raspberry-pi-4",
    ])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("v09"), r.stderr)
  }

  /// Two `mdi serve` workers on loopback: segment 2, then segment 1 sending to it; returns them
  /// and the first one's port. The caller ends both by their pids (`kill`); a worker that does
  /// not come up is ended here before the error.
  func startChain(_ common: [String]) throws -> (
    first: CLIBackgroundProcess, last: CLIBackgroundProcess, port: Int
  ) {
    let last = try CLI.start(
      ["mdi", "serve"] + common + ["--segment", "2"], log: dir.appendingPathComponent("w2.log"))
    guard let lastPort = port(of: last) else {
      last.kill(SIGTERM)
      throw WorkerDidNotStart(log: last.log)
    }
    let first: CLIBackgroundProcess
    do {
      first = try CLI.start(
        ["mdi", "serve"] + common + ["--segment", "1", "--next", "127.0.0.1:\(lastPort)"],
        log: dir.appendingPathComponent("w1.log"))
    } catch {
      last.kill(SIGTERM)
      throw error
    }
    guard let firstPort = port(of: first) else {
      first.kill(SIGTERM)
      last.kill(SIGTERM)
      throw WorkerDidNotStart(log: first.log)
    }
    return (first, last, firstPort)
  }

  /// A worker that ended or never printed its port; the error shows its log.
  struct WorkerDidNotStart: Error, CustomStringConvertible {
    var log: String
    var description: String { "the worker did not start listening:\n\(log)" }
  }

  /// Polls a worker's log for its `listening on HOST:PORT` line.
  func port(of worker: CLIBackgroundProcess, timeout: TimeInterval = 60) -> Int? {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline && worker.process.isRunning {
      if let line = worker.log.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }),
        let colon = line.split(separator: " ")[2].lastIndex(of: ":")
      {
        let address = line.split(separator: " ")[2]
        return Int(address[address.index(after: colon)...])
      }
      usleep(20_000)
    }
    return nil
  }

  func testAChainOfProcessesAnswersLikeTheSingleProcessRun() throws {
    let x = MDIModels.input(batch: 10, seed: 21)
    let inputs = dir.appendingPathComponent("x.h5").path
    try TensorFile.write([("x", x)], to: inputs)
    let common: [String] = [
      "--bundle", bundle!, "--variant", "v01", "--exits", "late", "--cut-after", "relu1,exit2",
    ]
    let (first, last, firstPort) = try startChain(common)
    defer {
      first.kill(SIGTERM)
      last.kill(SIGTERM)
    }
    let out = dir.appendingPathComponent("y.h5").path
    let r = try CLI.run(
      ["mdi", "run"] + common + [
        "--next", "127.0.0.1:\(firstPort)", "--input", inputs, "--output", out, "--json", "--timeout", "20",
      ], timeout: 60)
    XCTAssertEqual(r.status, 0, r.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    XCTAssertEqual(report["answered"] as? Int, 10, r.stdout)
    XCTAssertEqual((report["links"] as! [Any]).count, 2)

    let deployment = try MDIDeployment.load(
      bundle: try ModelBundle.open(bundle), variant: "v01", operatingPoint: "late",
      cutAfter: ["relu1", "exit2"])
    let expected = try MDILocal.run(deployment, inputs: x)
    let y = try TensorFile.read(path: out, dataset: "y")
    let exit = try TensorFile.read(path: out, dataset: "exit")
    for (i, e) in expected.enumerated() {
      XCTAssertEqual(Int(exit.scalars[i]), e.outputIndex, "task \(i)")
      let row = Array(y.scalars[(i * 4)..<(i * 4 + 4)])
      XCTAssertEqual(row, e.output.scalars, "task \(i)")
    }
  }

  /// A chain of two workers cut after `relu1,add3`; 60 inputs at 40/s (1.5 s) are run with
  /// `mdi run … runArgs(firstPort, lastPort)` while the last worker is killed (SIGKILL, by its
  /// pid) 0.5 s after the run starts. Returns the run and the inputs.
  func runKillingTheLastWorker(seed: UInt64, _ runArgs: (Int, Int) -> [String]) throws -> (
    r: CLI.Result, x: Tensor, lastPort: Int
  ) {
    let x = MDIModels.input(batch: 60, seed: seed)
    let inputs = dir.appendingPathComponent("x.h5").path
    try TensorFile.write([("x", x)], to: inputs)
    let common: [String] = ["--bundle", bundle!, "--variant", "v01", "--cut-after", "relu1,add3"]
    let (first, last, firstPort) = try startChain(common)
    defer {
      first.kill(SIGTERM)
      last.kill(SIGTERM)
    }
    guard let lastPort = port(of: last) else { throw WorkerDidNotStart(log: last.log) }
    let pid = last.process.processIdentifier
    let killer = Thread {
      Thread.sleep(forTimeInterval: 0.5)
      _ = kill(pid, SIGKILL)  // this test's own worker, by its pid
    }
    killer.start()
    let r = try CLI.run(
      ["mdi", "run"] + common + runArgs(firstPort, lastPort) + [
        "--input", inputs, "--rate", "40", "--timeout", "20", "--json",
      ], timeout: 60)
    return (r, x, lastPort)
  }

  func testAKilledWorkerProcessFailsItsTasks() throws {
    let started = Date()
    let (r, _, _) = try runKillingTheLastWorker(seed: 22) { first, _ in ["--next", "127.0.0.1:\(first)"] }
    let seconds = Date().timeIntervalSince(started)
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertLessThan(seconds, 10, "the failures must come from the closed connection, not the 20 s timeout")
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    let answered = report["answered"] as! Int
    let failed = report["failed"] as! Int
    XCTAssertEqual(answered + failed, 60)
    XCTAssertGreaterThan(answered, 0, r.stdout)
    XCTAssertGreaterThan(failed, 0, r.stdout)
    XCTAssertTrue((report["failures"] as! [String]).contains { $0.contains("segment 2") }, r.stdout)
  }

  /// `--replan`: the last worker killed (SIGKILL) mid-run; the source plans the variant over
  /// the source and the first worker, which takes the rest of the model, and the run goes on.
  func testAKilledWorkerIsPlannedAroundWithReplan() throws {
    let out = dir.appendingPathComponent("y.h5").path
    let (r, x, lastPort) = try runKillingTheLastWorker(seed: 23) { first, last in
      [
        "--chain", "127.0.0.1:\(first),127.0.0.1:\(last)", "--replan", "--devices",
        "raspberry-pi-4,raspberry-pi-4,raspberry-pi-4", "--output", out,
      ]
    }
    XCTAssertEqual(r.status, 0, r.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    let replans = report["replans"] as! [[String: Any]]
    XCTAssertEqual(replans.count, 1, r.stdout)
    let replan = try XCTUnwrap(replans.first)
    XCTAssertNil(replan["error"], r.stdout)
    XCTAssertEqual(replan["gone_segment"] as? Int, 2)
    XCTAssertEqual(replan["gone_worker"] as? String, "127.0.0.1:\(lastPort)")
    XCTAssertEqual((replan["cut_after"] as? [String])?.count, 1, "one worker left: one cut")
    let answered = report["answered"] as! Int
    let failed = report["failed"] as! Int
    XCTAssertEqual(answered + failed, 60)
    XCTAssertGreaterThanOrEqual(answered, 30, "the tasks after the re-plan are answered: \(r.stdout)")
    // Every answer, before and after the re-plan, is the single-process run's.
    let deployment = try MDIDeployment.load(
      bundle: try ModelBundle.open(bundle), variant: "v01", operatingPoint: nil, cutAfter: ["relu1", "add3"])
    let expected = try MDILocal.run(deployment, inputs: x)
    let y = try TensorFile.read(path: out, dataset: "y")
    let exit = try TensorFile.read(path: out, dataset: "exit")
    for (i, e) in expected.enumerated() where exit.scalars[i] >= 0 {
      XCTAssertEqual(Int(exit.scalars[i]), e.outputIndex, "task \(i)")
      XCTAssertEqual(Array(y.scalars[(i * 4)..<(i * 4 + 4)]), e.output.scalars, "task \(i)")
    }
  }

  /// `--cut-after ""`: no cut, the source runs the whole variant (the one-device baseline of
  /// tools/mdi_mustshow.sh), with the single-process run's answers.
  func testNoCutRunsTheWholeVariantAtTheSource() throws {
    let x = MDIModels.input(batch: 6, seed: 24)
    let inputs = dir.appendingPathComponent("x.h5").path
    try TensorFile.write([("x", x)], to: inputs)
    let out = dir.appendingPathComponent("y.h5").path
    let r = try CLI.run(
      [
        "mdi", "run", "--bundle", bundle!, "--variant", "v01", "--exits", "late", "--cut-after", "",
        "--input",
        inputs, "--output", out, "--json",
      ], timeout: 60)
    XCTAssertEqual(r.status, 0, r.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    XCTAssertEqual(report["answered"] as? Int, 6, r.stdout)
    XCTAssertEqual((report["links"] as! [Any]).count, 0, "one segment, no link")
    let deployment = try MDIDeployment.load(
      bundle: try ModelBundle.open(bundle), variant: "v01", operatingPoint: "late", cutAfter: [])
    let y = try TensorFile.read(path: out, dataset: "y")
    for (i, e) in try MDILocal.run(deployment, inputs: x).enumerated() {
      XCTAssertEqual(Array(y.scalars[(i * 4)..<(i * 4 + 4)]), e.output.scalars, "task \(i)")
    }
  }

  func testReplanNeedsTheChainAndADevicePerSegment() throws {
    let common: [String] = ["--bundle", bundle!, "--variant", "v01", "--cut-after", "relu1,add3"]
    let inputs = dir.appendingPathComponent("x.h5").path
    try TensorFile.write([("x", MDIModels.input(batch: 2, seed: 1))], to: inputs)
    for (extra, text) in [
      (["--next", "127.0.0.1:9", "--replan"], "--replan needs every worker's host:port (--chain)"),
      (["--chain", "127.0.0.1:9,127.0.0.1:10", "--replan"], "expected 3 (source first), found 0"),
      (["--chain", "127.0.0.1:9"], "1 workers for a chain of 3 segments"),
      (["--chain", "127.0.0.1:9,127.0.0.1:10", "--next", "127.0.0.1:9"], "give --chain or --next, not both"),
    ] {
      let r = try CLI.run(["mdi", "run"] + common + extra + ["--input", inputs], timeout: 60)
      XCTAssertEqual(r.status, 1, "\(extra): \(r.stderr)")
      XCTAssertTrue(r.stderr.contains(text), "\(extra): \(r.stderr)")
    }
  }

  func testAHungWorkerIsNoticedByTheTaskTimeout() throws {
    let x = MDIModels.input(batch: 20, seed: 23)
    let inputs = dir.appendingPathComponent("x.h5").path
    try TensorFile.write([("x", x)], to: inputs)
    let common: [String] = ["--bundle", bundle!, "--variant", "v01", "--cut-after", "relu1"]
    let worker = try CLI.start(
      ["mdi", "serve"] + common + ["--segment", "1"], log: dir.appendingPathComponent("w.log"))
    let pid = worker.process.processIdentifier
    defer {
      _ = kill(pid, SIGCONT)
      worker.kill(SIGTERM)
    }
    let port = try XCTUnwrap(port(of: worker), worker.log)
    _ = kill(pid, SIGSTOP)  // alive, connected, silent
    let started = Date()
    let r = try CLI.run(
      ["mdi", "run"] + common + [
        "--next", "127.0.0.1:\(port)", "--input", inputs, "--task-timeout", "0.5", "--timeout", "20",
        "--json",
      ], timeout: 60)
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertLessThan(Date().timeIntervalSince(started), 10, "noticed by the task timeout, not the run's")
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    XCTAssertEqual(report["failed"] as? Int, 20, r.stdout)
    XCTAssertTrue((report["failures"] as! [String]).allSatisfy { $0.contains("within 0.5 s") }, r.stdout)
  }

  func testRunRejectsBadAdmissionOptions() throws {
    let inputs = dir.appendingPathComponent("x.h5").path
    try TensorFile.write([("x", MDIModels.input(batch: 2))], to: inputs)
    let common: [String] = [
      "mdi", "run", "--bundle", bundle!, "--variant", "v01", "--cut-after", "relu1,add3", "--next",
      "127.0.0.1:9",
      "--input", inputs,
    ]
    let cases: [([String], String)] = [
      (["--drop-when-full"], "--rate"), (["--rate=-5"], "--rate"), (["--window", "0"], "--window"),
      (["--adapt-step", "0"], "--adapt-step"), (["--limit", "0"], "--limit"),
      (["--features", "fp8"], "--features"),
      (["--link-mbps", "0"], "--link-mbps"), (["--next", "nowhere"], "--next"),
      (["--task-timeout", "0"], "--task-timeout"),
    ]
    for (args, field) in cases {
      let r = try CLI.run(common + args)
      XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
      XCTAssertTrue(r.stderr.contains(field), "\(args): expected \(field) in \(r.stderr)")
    }
  }

  func testServeRejectsABadSegmentAndAMissingNext() throws {
    let common: [String] = [
      "mdi", "serve", "--bundle", bundle!, "--variant", "v01", "--cut-after", "relu1,add3",
    ]
    var r = try CLI.run(common + ["--segment", "0"])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("--segment"), r.stderr)
    r = try CLI.run(common + ["--segment", "1"])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("--next"), r.stderr)
    r = try CLI.run(common.dropLast() + ["relu1,nowhere", "--segment", "1"])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("nowhere"), r.stderr)
  }
}
