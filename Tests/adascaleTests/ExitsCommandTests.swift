import AdaIO
import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// `adascale exits` on the run tests' bundle with an exit plan added to variant `big`.
final class ExitsCommandTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = Fixtures.temporaryDirectory("adascale-exits-cli")
    try CLIBundle.write(to: dir.appendingPathComponent("bundle"))
  }

  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  var bundle: String { dir.appendingPathComponent("bundle").path }

  /// Adds a one-exit plan to `big` (exit after `hidden`), with the multi-exit file.
  func addExits(threshold: Double = 0.9) throws {
    var model = CLIBundle.model(hidden: 6)
    model.graph.nodes.insert(
      Node(name: "hidden_exit", spec: .dense(DenseSpec(units: 3, activation: .softmax)), inputs: ["hidden"]),
      at: 2)
    model.graph.outputs = ["hidden_exit", "out"]
    let heads = try Parameters.initialize(for: model.graph, seed: 4)
    for key in heads.keys where key.hasPrefix("hidden_exit") {
      model.parameters.tensors[key] = heads.tensors[key]
    }
    try KerasModelWriter.save(model, to: bundle + "/variants/big_exits.h5")
    let url = URL(fileURLWithPath: bundle + "/manifest.json")
    var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    var variants = manifest["variants"] as! [[String: Any]]
    let point: (String, Double, Double) -> [String: Any] = { name, t, acc in
      [
        "name": name, "kind": "accuracy-drop", "target": 0.01, "thresholds": [t], "exit_rates": [0.6, 0.4],
        "expected_macs": 4.0, "expected_latency_ms": 1.2, "validation_accuracy": acc,
        "test_accuracy": acc - 0.002,
        "test_exit_rates": [0.55, 0.45], "test_expected_macs": 4.5, "validation_swaps": 0.03,
      ]
    }
    variants[1]["exits"] = [
      "file": "variants/big_exits.h5", "confidence": "max-softmax",
      "exits": [
        [
          "output": "hidden_exit", "block": "hidden", "node": "hidden", "head": "dense", "macs": 3,
          "head_macs": 1,
          "predicted_latency_ms": 0.9, "head_predicted_latency_ms": 0.1, "validation_accuracy": 0.8,
        ]
      ],
      "final_macs": 11, "final_predicted_latency_ms": 2.1, "static_validation_accuracy": 0.9,
      "operating_points": [point("drop-0", 1.0, 0.9), point("drop-1", threshold, 0.89)],
    ]
    manifest["variants"] = variants
    try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys]).write(
      to: url)
  }

  func testPrintsTheCurveOfEachVariantWithExits() throws {
    try addExits()
    let r = try CLI.run(["exits", "--bundle", bundle])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("big: 1 exits (max-softmax)"), r.stdout)
    XCTAssertTrue(r.stdout.contains("drop-1"), r.stdout)
    XCTAssertTrue(r.stdout.contains("55/45"), r.stdout)
    XCTAssertFalse(r.stdout.contains("small:"), "small has no exits")
  }

  func testJSONGivesSavingsAgainstTheStaticVariant() throws {
    try addExits()
    let r = try CLI.run(["exits", "--bundle", bundle, "--variant", "big", "--json"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let curves = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
    XCTAssertEqual(curves.count, 1)
    let points = curves[0]["operating_points"] as! [[String: Any]]
    XCTAssertEqual(points.map { $0["name"] as! String }, ["drop-0", "drop-1"])
    XCTAssertEqual(points[1]["macs_saved"] as! Double, 1 - 4.5 / 10, accuracy: 1e-9, "static big has 10 MACs")
    XCTAssertEqual(points[1]["points_vs_static"] as! Double, (0.888 - 0.9) * 100, accuracy: 1e-9)
    // Validation moved drop-1 by −1 point (0.89 vs 0.9): predicted 0.9 − 0.01 on test, with
    // 3 % of inputs swapped, sd √((0.03 − 0.01²)(1/1 + 1/1)) on the manifest's 1 + 1 examples.
    XCTAssertEqual(points[1]["predicted_test_accuracy"] as! Double, 0.89, accuracy: 1e-9)
    XCTAssertEqual(
      points[1]["predicted_test_accuracy_sd"] as! Double, ((0.03 - 0.0001) * 2).squareRoot(), accuracy: 1e-9)
  }

  func testABundleWithoutExitsIsAClearError() throws {
    let r = try CLI.run(["exits", "--bundle", bundle])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("no variant of the bundle has early exits"), r.stderr)
    try addExits()
    let v = try CLI.run(["exits", "--bundle", bundle, "--variant", "small"])
    XCTAssertEqual(v.status, 1)
    XCTAssertTrue(
      v.stderr.contains("variant 'small' has no early exits (variants with exits: big)"), v.stderr)
  }

  func testAThresholdOutsideTheUnitIntervalIsRefusedNamingTheField() throws {
    try addExits(threshold: 1.5)
    let r = try CLI.run(["exits", "--bundle", bundle])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("variants[1].exits.operating_points[1].thresholds[0]"), r.stderr)
    XCTAssertTrue(r.stderr.contains("manifest.json"), r.stderr)
  }
}
