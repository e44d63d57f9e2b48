import AdaSearch
import AdaTensor
import AdaTrain
import Foundation
import TestSupport
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// The Ray backend against a live cluster (docs/scale.md). Skipped unless `ADASCALE_RAY_ADDRESS`
/// names one: `make ray-test` starts a loopback cluster, runs this class and stops it.
final class RayBackendTests: XCTestCase {
  /// The local run every test compares with (made by the first that needs it).
  nonisolated(unsafe) static var shared: (tiny: TinyCompress, bundle: String, work: String)?

  override class func tearDown() {
    if let s = shared { try? FileManager.default.removeItem(atPath: s.tiny.directory) }
    shared = nil
  }

  var address: String {
    get throws {
      guard let a = ProcessInfo.processInfo.environment["ADASCALE_RAY_ADDRESS"], !a.isEmpty else {
        throw XCTSkip("needs a Ray cluster: make ray-test (sets ADASCALE_RAY_ADDRESS)")
      }
      return a
    }
  }

  func local() throws -> (tiny: TinyCompress, bundle: String, work: String) {
    if let s = Self.shared { return s }
    let tiny = try TinyCompress(directory: Fixtures.temporaryDirectory("ray-backend").path)
    let r = try CLI.run(tiny.arguments(try tiny.recipe("local", seed: 5)), timeout: 300)
    XCTAssertEqual(r.status, 0, r.stderr)
    guard r.status == 0 else { throw XCTSkip("the local run failed:\n\(r.stderr)") }
    Self.shared = (tiny, tiny.directory + "/local", tiny.directory + "/local.work")
    return Self.shared!
  }

  /// The search's archive (every genome scored, in order, with its objectives) from a work directory.
  static func archive(_ work: String) throws -> [Archived] {
    struct Checkpoint: Decodable { var archive: [Archived] }
    let names = try FileManager.default.contentsOfDirectory(atPath: work).filter {
      $0.hasPrefix("search-") && $0.hasSuffix(".json")
    }
    guard names.count == 1 else {
      throw AdaError(.missing, file: work, "expected one search checkpoint, found \(names)")
    }
    let data = try Data(contentsOf: URL(fileURLWithPath: work + "/" + names[0]))
    return try JSONDecoder().decode(Checkpoint.self, from: data).archive
  }

  func testRaySearchGivesTheLocalArchiveFrontAndBundle() throws {
    let address = try address
    let (tiny, reference, work) = try local()
    let recipe = try tiny.recipe("ray", seed: 5)
    let r = try CLI.run(
      tiny.arguments(recipe) + ["--backend", "ray", "--ray-address", address], timeout: 600)
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stderr.contains("candidates scored"), r.stderr)
    let got = try Self.archive(tiny.directory + "/ray.work")
    let want = try Self.archive(work)
    XCTAssertEqual(got.map(\.genome), want.map(\.genome))
    XCTAssertEqual(
      got.map { $0.evaluation.objectives.map(\.bitPattern) },
      want.map { $0.evaluation.objectives.map(\.bitPattern) })
    try TinyCompress.assertSameBundle(tiny.directory + "/ray", reference, "Ray backend vs local")
  }

  /// SIGKILL to the Ray worker process running the first `search-worker` seen: Ray retries the
  /// task (max_retries) and the run ends with the local result.
  func testKilledWorkerIsRetriedAndTheResultUnchanged() throws {
    let address = try address
    let (tiny, reference, work) = try local()
    let recipe = try tiny.recipe("killed", seed: 5)
    let run = try CLI.start(
      tiny.arguments(recipe) + ["--backend", "ray", "--ray-address", address],
      log: URL(fileURLWithPath: tiny.directory + "/killed.log"))
    var killed: (worker: Int32, rayWorker: Int32, command: String)?
    let deadline = Date().addingTimeInterval(600)
    while run.process.isRunning && Date() < deadline {
      if killed == nil,
        let (pid, parent, parentCommand) = Self.searchWorker(under: tiny.directory + "/killed")
      {
        _ = Glibc.kill(parent, SIGKILL)
        killed = (pid, parent, parentCommand)
      }
      usleep(killed == nil ? 5_000 : 100_000)
    }
    if run.process.isRunning { run.kill() }
    run.process.waitUntilExit()
    let log = run.log
    XCTAssertNotNil(killed, "no search-worker was seen to kill:\n\(log)")
    XCTAssertEqual(run.process.terminationStatus, 0, log)
    if let killed {
      print(
        "killed Ray worker \(killed.rayWorker) (\(killed.command)) running search-worker \(killed.worker)")
    }
    XCTAssertEqual(
      try Self.archive(tiny.directory + "/killed.work").map { $0.evaluation.objectives.map(\.bitPattern) },
      try Self.archive(work).map { $0.evaluation.objectives.map(\.bitPattern) })
    try TinyCompress.assertSameBundle(tiny.directory + "/killed", reference, "a killed Ray worker")
  }

  /// A `search-worker` process whose recipe lies under `prefix`, and its parent (a Ray worker,
  /// `ray::…`): (pid, parent pid, parent command).
  static func searchWorker(under prefix: String) -> (Int32, Int32, String)? {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    for name in entries {
      guard let pid = Int32(name),
        let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
      else { continue }
      let args = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
      guard args.contains("search-worker"), args.contains(where: { $0.hasPrefix(prefix) }),
        let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("PPid:") }),
        let parent = Int32(line.dropFirst(5).trimmingCharacters(in: .whitespaces)),
        let parentRaw = FileManager.default.contents(atPath: "/proc/\(parent)/cmdline")
      else { continue }
      let parentCommand = String(decoding: parentRaw.split(separator: 0).first ?? [], as: UTF8.self)
      guard parentCommand.hasPrefix("ray::") else { continue }
      return (pid, parent, parentCommand)
    }
    return nil
  }

  func testUnreachableClusterFailsQuicklyNamingTheAddress() throws {
    _ = try address
    let tiny = try TinyCompress(directory: Fixtures.temporaryDirectory("ray-unreachable").path)
    defer { try? FileManager.default.removeItem(atPath: tiny.directory) }
    let started = Date()
    let r = try CLI.run(
      tiny.arguments(try tiny.recipe("unreachable")) + ["--backend", "ray", "--ray-address", "127.0.0.1:9"],
      timeout: 120)
    let seconds = Date().timeIntervalSince(started)
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertTrue(r.stderr.contains("127.0.0.1:9"), r.stderr)
    XCTAssertTrue(r.stderr.contains("cannot reach the Ray cluster"), r.stderr)
    XCTAssertLessThan(seconds, 60, "an unreachable cluster should fail within the connect timeout")
    XCTAssertFalse(FileManager.default.fileExists(atPath: tiny.directory + "/unreachable"))
  }

  func testRecipesRunAsOneRayJobWithASummaryTable() throws {
    let address = try address
    let (tiny, _, _) = try local()
    let a = try tiny.recipe("recipe-a", seed: 1)
    let b = try tiny.recipe("recipe-b", seed: 2)
    let r = try CLI.run(
      [
        "compress", "--recipes", a, b, "--backend", "ray", "--ray-address", address, "--no-compare-random",
        "--probe-budget-ms", "1", "--latency-cache", tiny.directory + "/latency",
      ], timeout: 600)
    print(r.stdout)
    XCTAssertEqual(r.status, 0, r.stderr)
    for column in ["recipe", "bundle", "variants", "best accuracy", "span", "wall s", "status"] {
      XCTAssertTrue(r.stdout.contains(column), "missing column \(column):\n\(r.stdout)")
    }
    let rows = r.stdout.split(separator: "\n").filter {
      $0.contains("recipe-a.yaml") || $0.contains("recipe-b.yaml")
    }
    XCTAssertEqual(rows.count, 2, r.stdout)
    XCTAssertTrue(rows.allSatisfy { $0.hasSuffix("ok") }, r.stdout)
    XCTAssertTrue(FileManager.default.fileExists(atPath: tiny.directory + "/recipe-a/manifest.json"))
    XCTAssertTrue(FileManager.default.fileExists(atPath: tiny.directory + "/recipe-b/manifest.json"))
  }

  /// `make ray-test`'s cluster has two nodes, the devices loop-a (the head) and loop-b: each is
  /// profiled on its own node, and its table is measured there under its name.
  func testEachDeviceIsProfiledOnItsOwnNode() throws {
    let address = try address
    let directory = Fixtures.temporaryDirectory("ray-profile").path
    let model = Fixtures.path("keras/fmnist_cnn.h5")
    let r = try CLI.run(
      [
        "profile", "--model", model, "--backend", "ray", "--ray-address", address, "--device", "loop-a",
        "--device", "loop-b", "--output-dir", directory, "--budget-ms", "2", "--no-cache", "--json",
      ], timeout: 600)
    XCTAssertEqual(r.status, 0, r.stderr)
    let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
    XCTAssertEqual(rows.map { $0["device"] as? String }, ["loop-a", "loop-b"], r.stdout)
    let nodes = Set(rows.compactMap { $0["node_id"] as? String })
    XCTAssertEqual(nodes.count, 2, "each device on its own node: \(r.stdout)")
    for row in rows {
      let device = row["device"] as! String
      XCTAssertEqual(row["status"] as? Int, 0, r.stdout)
      XCTAssertNotNil(row["measured_ms"] as? Double, r.stdout)
      XCTAssertNotNil(row["cpu_model"] as? String, r.stdout)
      let path = directory + "/ops-lut.\(device).json"
      XCTAssertEqual(row["table"] as? String, path)
      let table =
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
      let tableRows = table["rows"] as! [[String: Any]]
      XCTAssertEqual(tableRows.count, 13)
      XCTAssertTrue(
        tableRows.allSatisfy { $0["device"] as? String == device && $0["source"] as? String == "measured" })
    }
    // The table form names both devices.
    let text = try CLI.run(
      [
        "profile", "--model", model, "--backend", "ray", "--ray-address", address, "--device", "loop-b",
        "--output-dir", directory, "--budget-ms", "2",
      ], timeout: 600)
    XCTAssertEqual(text.status, 0, text.stderr)
    XCTAssertTrue(text.stdout.contains("loop-b") && text.stdout.contains("measured ms"), text.stdout)
  }

  func testADeviceNoNodeOffersIsAClearErrorBeforeAnythingRuns() throws {
    let address = try address
    let directory = Fixtures.temporaryDirectory("ray-profile-missing").path
    let started = Date()
    let r = try CLI.run(
      [
        "profile", "--model", Fixtures.path("keras/fmnist_cnn.h5"), "--backend", "ray", "--ray-address",
        address,
        "--device", "loop-a", "--device", "pixel-9", "--output-dir", directory,
      ], timeout: 300)
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertTrue(r.stderr.contains("no node of the Ray cluster at \(address) is pixel-9"), r.stderr)
    XCTAssertTrue(r.stderr.contains("devices offered: loop-a"), r.stderr)
    XCTAssertTrue(r.stderr.contains(#"--resources '{"adascale-device:pixel-9": 1}'"#), r.stderr)
    XCTAssertLessThan(Date().timeIntervalSince(started), 120)
    XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/ops-lut.loop-a.json"), "nothing ran")
  }
}
