import Foundation
import TestSupport
import XCTest

/// `adascale profile`: report contents, the cache, the lookup table, errors. Timings use a 2 ms
/// budget per op (these tests check structure and bookkeeping, never speed).
final class ProfileCommandTests: XCTestCase {
  /// Shared by the tests so only the first one pays for timing the fmnist CNN and probing the host.
  static let cache = Fixtures.temporaryDirectory("adascale-profile-cache").path
  static let repository = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
  let fmnist = Fixtures.path("keras/fmnist_cnn.h5")

  func profile(_ args: [String]) throws -> (CLI.Result, [String: Any]) {
    let r = try CLI.run(
      ["profile", "--budget-ms", "2", "--cache", Self.cache, "--json"] + args, timeout: 300)
    XCTAssertEqual(r.status, 0, r.stderr)
    let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
    return (r, json)
  }

  /// A model written by `adascale apply --op quantize:8` is counted at 8 bits per weight.
  func testQuantizedModelWeightsCountAtTheirBitWidth() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let quantized = dir.appendingPathComponent("q8.h5").path
    let apply = try CLI.run([
      "apply", "--model", Fixtures.path("keras/mlp.h5"), "--op", "quantize:8", "--output", quantized,
    ])
    XCTAssertEqual(apply.status, 0, apply.stderr)
    func weightBytes(_ model: String) throws -> Int {
      let (_, report) = try profile(["--model", model])
      let memory = (report["memory"] as! [String: Any])["batch_1"] as! [String: Any]
      return memory["weight_bytes"] as! Int
    }
    let float = try weightBytes(Fixtures.path("keras/mlp.h5"))
    XCTAssertEqual(
      try weightBytes(quantized) * 4, float, "every parameter of the mlp's dense layers at 8 bits")
  }

  func testJSONReportHasPredictedAndMeasuredTotalsPerLayerRowsDevicesAndMemory() throws {
    let (_, report) = try profile(["--model", fmnist, "--device", "raspberry-pi-4"])
    let total = report["total"] as! [String: Any]
    XCTAssertGreaterThan(total["predicted_ms"] as! Double, 0)
    XCTAssertGreaterThan(total["measured_ms"] as! Double, 0)
    XCTAssertNotNil(total["relative_error"] as? Double)
    let layers = report["layers"] as! [[String: Any]]
    XCTAssertEqual(layers.map { $0["name"] as! String }.first, "input")
    XCTAssertEqual(layers.count, 13)
    let shares = layers.map { $0["share"] as! Double }.reduce(0, +)
    XCTAssertEqual(shares, 1, accuracy: 1e-9, "shares of the predicted total add up to 1")
    XCTAssertEqual(layers[5]["macs"] as? Int, 3_612_672)
    let devices = report["devices"] as! [[String: Any]]
    XCTAssertEqual(devices.map { $0["device"] as! String }, ["host", "raspberry-pi-4"])
    XCTAssertEqual(devices.map { $0["source"] as! String }, ["measured", "modelled"])
    XCTAssertNotNil(devices[1]["energy_mj"] as? Double)
    let memory = (report["memory"] as! [String: Any])["batch_1"] as! [String: Any]
    XCTAssertEqual(memory["weight_bytes"] as? Int, 220_618 * 4)
  }

  /// The cache is used, not just fast: the second run times nothing and reports the same means.
  /// The ops come from the cache; the model itself is timed again (its figure is this run's).
  func testSecondRunIsServedFromTheCache() throws {
    let (_, first) = try profile(["--model", fmnist])
    let (_, second) = try profile(["--model", fmnist])
    let cache = second["cache"] as! [String: Any]
    XCTAssertEqual(cache["measured"] as? Int, 0)
    XCTAssertEqual(cache["hits"] as? Int, 13)
    let means = { (r: [String: Any]) in (r["layers"] as! [[String: Any]]).map { $0["mean_ms"] as! Double } }
    XCTAssertEqual(means(first), means(second))
    let measured = [first, second].map { ($0["total"] as! [String: Any])["measured_ms"] as? Double }
    XCTAssertNotNil(measured[0])
    XCTAssertNotNil(measured[1])
    XCTAssertNotEqual(
      measured[0], measured[1], "two timings of the model agree to the last bit only by chance")
    let path = try XCTUnwrap(cache["path"] as? String)
    let file =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    XCTAssertNil(file["models"], "whole-model timings are not cached")
  }

  /// cpu=0.5 halves the CPU share: every device's latency doubles (cached timings, so exactly).
  func testContextStretchesEveryDeviceRow() throws {
    let args = ["--model", fmnist, "--device", "phone-big-core"]
    let (_, nominal) = try profile(args)
    let (_, shared) = try profile(args + ["--context", "cpu=0.5,mem=0.5"])
    let latency = { (r: [String: Any]) in
      (r["devices"] as! [[String: Any]]).map { ($0["latency"] as! [String: Any])["mean_ms"] as! Double }
    }
    for (a, b) in zip(latency(nominal), latency(shared)) { XCTAssertEqual(b, 2 * a, accuracy: 1e-12) }
    let feasible = (shared["devices"] as! [[String: Any]]).map { $0["feasible"] as! Bool }
    XCTAssertEqual(feasible, [false, false], "1.2 MB peak does not fit in 0.5 MB")
  }

  func testOutputWritesTheOpsTableWithMeasuredAndModelledRows() throws {
    let path = Fixtures.temporaryDirectory().appendingPathComponent("ops-lut.json").path
    _ = try profile(["--model", fmnist, "--device", "jetson-nano-cpu", "--output", path])
    let table =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    XCTAssertEqual(table["format"] as? String, "adascale-ops-lut")
    let rows = table["rows"] as! [[String: Any]]
    XCTAssertEqual(rows.count, 2 * 13)
    for row in rows {
      let expected = row["device"] as! String == "host" ? "measured" : "modelled"
      XCTAssertEqual(row["source"] as? String, expected)
      XCTAssertNotNil(row["mean_ms"] as? Double)
      XCTAssertNotNil(row["var_ms2"] as? Double)
      XCTAssertNotNil(row["count"] as? Int)
    }
    XCTAssertNotNil((table["fingerprint"] as! [String: Any])["blas_core"])
  }

  /// A device-farm node profiles itself as its device: measured rows under that name, the
  /// device's power constants for energy.
  func testAsDeviceLabelsTheMeasuredRowsAndUsesTheDevicesPower() throws {
    let path = Fixtures.temporaryDirectory().appendingPathComponent("ops-lut.pi.json").path
    let (_, report) = try profile(["--model", fmnist, "--as-device", "raspberry-pi-4", "--output", path])
    let devices = report["devices"] as! [[String: Any]]
    XCTAssertEqual(devices.map { $0["device"] as? String }, ["raspberry-pi-4"])
    XCTAssertEqual(devices[0]["source"] as? String, "measured")
    // recipes/devices/raspberry-pi-4.yaml: 2.7 W idle + 0.7 W for the one busy core, plus its
    // memory traffic (host.yaml's constants give over 4.5 W).
    let power = devices[0]["average_power_w"] as? Double ?? 0
    XCTAssertTrue((3.4..<3.7).contains(power), "average power \(power) W")
    let table =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    let rows = table["rows"] as! [[String: Any]]
    XCTAssertEqual(rows.count, 13)
    XCTAssertTrue(
      rows.allSatisfy { $0["device"] as? String == "raspberry-pi-4" && $0["source"] as? String == "measured" }
    )
    // A name the catalog lacks is a device all the same (host.yaml's power constants).
    let (_, other) = try profile(["--model", fmnist, "--as-device", "bench-7"])
    XCTAssertEqual((other["devices"] as! [[String: Any]]).map { $0["device"] as? String }, ["bench-7"])
  }

  func testRayBackendOptionsAreCheckedBeforeAnythingRuns() throws {
    for (args, text) in [
      (["--backend", "ray"], "--backend ray needs at least one --device"),
      (["--backend", "ray", "--device", "a", "--output", "x.json"], "use --output-dir"),
      (["--backend", "ray", "--device", "a", "--device", "a"], "--device a is given twice"),
      (["--backend", "ray", "--device", "a", "--as-device", "b"], "--as-device is for one host"),
      (["--backend", "cloud"], "--backend must be local or ray"),
      (["--backend", "ray", "--device", "a", "--ray-address", "nohost"], "expected host:port"),
    ] {
      let r = try CLI.run(["profile", "--model", fmnist] + args)
      XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
      XCTAssertTrue(r.stderr.contains(text), "\(args): \(r.stderr)")
    }
    let r = try CLI.run(
      ["profile", "--model", fmnist, "--backend", "ray", "--device", "a"],
      environment: ["ADASCALE_RAY_ADDRESS": ""])
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertTrue(r.stderr.contains("--backend ray needs a cluster address"), r.stderr)
  }

  func testArchitectureYAMLIsProfiledWithRandomWeights() throws {
    let yaml = Self.repository.appendingPathComponent("recipes/models/fmnist_cnn_slim.yaml").path
    let (_, report) = try profile(["--model", yaml])
    XCTAssertEqual(report["model"] as? String, "fmnist_cnn_slim")
    XCTAssertEqual((report["layers"] as! [Any]).count, 13)
  }

  func testUnknownDeviceExitsOneAndListsTheAvailableDevices() throws {
    let r = try CLI.run(["profile", "--model", fmnist, "--device", "toaster"])
    XCTAssertEqual(r.status, 1, r.stderr)
    for text in ["unknown device 'toaster'", "host", "jetson-nano-cpu", "phone-big-core", "raspberry-pi-4"] {
      XCTAssertTrue(r.stderr.contains(text), "stderr should mention \(text): \(r.stderr)")
    }
    XCTAssertTrue(r.stdout.isEmpty, "nothing is timed before the error")
  }

  func testBadContextExitsOneNamingTheField() throws {
    for (context, field) in [
      ("cpu=2", "context.cpu"), ("gpu=1", "context.gpu"), ("thermal=hot", "context.thermal"),
    ] {
      let r = try CLI.run(["profile", "--model", fmnist, "--context", context])
      XCTAssertEqual(r.status, 1, r.stderr)
      XCTAssertTrue(r.stderr.contains(field), "\(context): \(r.stderr)")
    }
  }

  func testHelpShowsExamples() throws {
    let r = try CLI.run(["profile", "--help"])
    XCTAssertEqual(r.status, 0)
    XCTAssertTrue(r.stdout.contains("Examples:"), r.stdout)
    XCTAssertTrue(r.stdout.contains("--context"), r.stdout)
  }
}
