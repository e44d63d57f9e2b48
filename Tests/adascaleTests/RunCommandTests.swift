import AdaIO
import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// `adascale run` on a small bundle written by the tests (tiny MLP variants with LUT figures of
/// milliseconds, so decisions follow the LUT; the models themselves run in microseconds).
final class RunCommandTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = Fixtures.temporaryDirectory("adascale-run")
    try CLIBundle.write(to: dir.appendingPathComponent("bundle"))
    var g = SeededGenerator(seed: 9)
    try TensorFile.write([("x", Tensor.uniform([5, 4], lo: -1, hi: 1, using: &g))], to: path("x.h5"))
  }

  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

  func testJSONReportsEachBatchAndWritesTheOutputs() throws {
    let r = try CLI.run([
      "run", "--bundle", path("bundle"), "--input", path("x.h5"), "--output", path("y.h5"), "--batch", "2",
      "--slo-ms", "50", "--json",
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    let steps = report["steps"] as! [[String: Any]]
    XCTAssertEqual(steps.count, 3, "5 examples in batches of 2")
    XCTAssertEqual(steps.map { $0["examples"] as! Int }, [2, 2, 1])
    for s in steps {
      for key in ["variant", "reason", "predicted_ms", "measured_ms", "switched", "late", "context"] {
        XCTAssertNotNil(s[key], "step has \(key)")
      }
    }
    XCTAssertEqual(steps[0]["variant"] as? String, "big", "SLO 50 ms: the most accurate")
    let totals = report["totals"] as! [String: Any]
    XCTAssertEqual(totals["batches"] as? Int, 3)
    XCTAssertEqual((report["policy"] as! [String: Any])["slo_ms"] as? Double, 50)
    let y = try TensorFile.read(path: path("y.h5"), dataset: "y")
    XCTAssertEqual(y.shape, [5, 3])
  }

  func testTightSLORunsTheFastestVariantAndSaysWhy() throws {
    let r = try CLI.run([
      "run", "--bundle", path("bundle"), "--input", path("x.h5"), "--output", path("y.h5"), "--slo-ms", "1.5",
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    let lines = r.stdout.split(separator: "\n")
    XCTAssertTrue(lines[0].contains("2 variants; SLO 1.500 ms"), String(lines[0]))
    XCTAssertTrue(lines[2].contains("small"), String(lines[2]))
    XCTAssertTrue(lines[2].contains("most accurate on time"), String(lines[2]))
    XCTAssertTrue(r.stdout.contains("5 batches"), r.stdout)
  }

  func testCorruptBundleExitsOneNamingTheFile() throws {
    try Data("{\"format\": \"adascale-bundle\", ".utf8).write(
      to: dir.appendingPathComponent("bundle/manifest.json"))
    let r = try CLI.run([
      "run", "--bundle", path("bundle"), "--input", path("x.h5"), "--output", path("y.h5"),
    ])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("manifest.json: not valid JSON"), r.stderr)
    XCTAssertTrue(r.stderr.contains("hint:"), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: path("y.h5")))
  }

  func testNewerBundleFormatAsksForAnUpgrade() throws {
    let manifest = dir.appendingPathComponent("bundle/manifest.json")
    let text = try String(contentsOf: manifest, encoding: .utf8)
    try text.replacingOccurrences(of: "\"format_version\" : 1", with: "\"format_version\" : 7")
      .write(to: manifest, atomically: true, encoding: .utf8)
    let r = try CLI.run([
      "run", "--bundle", path("bundle"), "--input", path("x.h5"), "--output", path("y.h5"),
    ])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("format version 7 is newer"), r.stderr)
    XCTAssertTrue(r.stderr.contains("hint: upgrade adascale"), r.stderr)
  }

  func testMissingBundleAndWrongInputShapeExitOne() throws {
    var r = try CLI.run(["run", "--bundle", path("nope"), "--input", path("x.h5"), "--output", path("y.h5")])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("bundle directory does not exist"), r.stderr)
    try TensorFile.write([("x", Tensor.zeros([2, 7]))], to: path("wrong.h5"))
    r = try CLI.run([
      "run", "--bundle", path("bundle"), "--input", path("wrong.h5"), "--output", path("y.h5"),
    ])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("wrong.h5: x:"), r.stderr)
  }

  func testBadOptionsExitOne() throws {
    for args in [["--slo-ms", "0"], ["--batch", "0"], ["--accuracy-floor", "2"]] {
      let r = try CLI.run(
        ["run", "--bundle", path("bundle"), "--input", path("x.h5"), "--output", path("y.h5")] + args)
      XCTAssertEqual(r.status, 1, args.joined(separator: " "))
    }
  }

  func testHelpHasExamples() throws {
    let r = try CLI.run(["run", "--help"])
    XCTAssertEqual(r.status, 0)
    XCTAssertTrue(r.stdout.contains("adascale run --bundle"), r.stdout)
    XCTAssertTrue(r.stdout.contains("--exits drop-0.5"), r.stdout)
  }

  // MARK: Early exits

  func exitBundle(thresholds: [Double] = [0.5, 0]) throws -> String {
    let b = dir.appendingPathComponent("exits-bundle")
    try CLIBundle.write(to: b, exits: CLIBundle.exitPlan(thresholds: thresholds))
    return b.path
  }

  func testAFixedOperatingPointReportsTheExitHistogramAndMACsPerInput() throws {
    let r = try CLI.run([
      "run", "--bundle", try exitBundle(), "--input", path("x.h5"), "--output", path("y.h5"), "--batch", "2",
      "--slo-ms", "50", "--exits", "budget-0.3", "--json",
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    XCTAssertEqual(report["exits"] as? String, "budget-0.3")
    let steps = report["steps"] as! [[String: Any]]
    XCTAssertEqual(steps.map { $0["variant"] as? String }, ["big", "big", "big"])
    XCTAssertEqual(
      steps.map { $0["operating_point"] as? String }, ["budget-0.3", "budget-0.3", "budget-0.3"])
    XCTAssertEqual(
      steps.map { $0["exit_histogram"] as? [Int] }, [[2, 0], [2, 0], [1, 0]], "threshold 0: all leave")
    XCTAssertEqual(steps.map { $0["macs"] as? Int }, [84, 84, 42], "42 MACs to the exit")
    let totals = report["totals"] as! [String: Any]
    XCTAssertEqual(totals["exit_histogram"] as? [String: Int], ["exit_0": 5])
    XCTAssertEqual(totals["mean_macs_per_input"] as? Double, 42)
    XCTAssertNotNil(totals["mean_ms_per_input"] as? Double)
    XCTAssertEqual(try TensorFile.read(path: path("y.h5"), dataset: "y").shape, [5, 3])
  }

  func testAutoMovesToACheaperOperatingPointUnderATightSLOAndSaysSo() throws {
    // SLO 0.9 ms: big 2 ms, big@drop-1 1.5 ms and small 1 ms are late; big@budget-0.3 0.8 ms is not.
    let r = try CLI.run([
      "run", "--bundle", try exitBundle(), "--input", path("x.h5"), "--output", path("y.h5"), "--slo-ms",
      "0.9",
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    let lines = r.stdout.split(separator: "\n").map(String.init)
    XCTAssertTrue(lines[0].contains("2 variants (+2 operating points, exits auto)"), lines[0])
    XCTAssertTrue(lines[2].contains("big@budget-0.3"), lines[2])
    XCTAssertTrue(lines[2].contains("exits 1/0"), lines[2])
    XCTAssertTrue(r.stdout.contains("per input: 42.0 MACs"), r.stdout)
    XCTAssertTrue(r.stdout.contains("exits: exit 0 5 (100.0%)"), r.stdout)
  }

  func testExitsOffRunsTheStaticVariantsWithoutAHistogram() throws {
    let r = try CLI.run([
      "run", "--bundle", try exitBundle(), "--input", path("x.h5"), "--output", path("y.h5"), "--slo-ms",
      "50",
      "--exits", "off", "--json",
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    let totals = report["totals"] as! [String: Any]
    XCTAssertNil(totals["exit_histogram"])
    XCTAssertEqual(totals["mean_macs_per_input"] as? Double, 42, "big's static MACs")
    XCTAssertNil((report["steps"] as! [[String: Any]])[0]["operating_point"])
  }

  func testVariantPinsOneVariantAndAnUnknownOneExitsOne() throws {
    let r = try CLI.run([
      "run", "--bundle", try exitBundle(), "--input", path("x.h5"), "--output", path("y.h5"), "--slo-ms",
      "50",
      "--variant", "small", "--json",
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    let steps = report["steps"] as! [[String: Any]]
    XCTAssertEqual(
      Set(steps.map { $0["variant"] as? String }), ["small"], "big is more accurate but not allowed")
    let bad = try CLI.run([
      "run", "--bundle", try exitBundle(), "--input", path("x.h5"), "--output", path("y.h5"), "--variant",
      "v99",
    ])
    XCTAssertEqual(bad.status, 1)
    XCTAssertTrue(bad.stderr.contains("no variant 'v99'; the bundle has small, big"), bad.stderr)
  }

  func testExitErrorsExitOneAndSayWhatTheBundleHas() throws {
    let exits = try exitBundle()
    var r = try CLI.run([
      "run", "--bundle", exits, "--input", path("x.h5"), "--output", path("y.h5"), "--exits", "drop-9",
    ])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(
      r.stderr.contains("no operating point 'drop-9'; the bundle has: drop-1, budget-0.3"), r.stderr)
    XCTAssertTrue(r.stderr.contains("hint:"), r.stderr)

    r = try CLI.run([
      "run", "--bundle", path("bundle"), "--input", path("x.h5"), "--output", path("y.h5"), "--exits",
      "drop-1",
    ])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("no variant of the bundle has early exits"), r.stderr)

    try FileManager.default.removeItem(atPath: exits)
    r = try CLI.run([
      "run", "--bundle", try exitBundle(thresholds: [1.5, 0]), "--input", path("x.h5"), "--output",
      path("y.h5"),
    ])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("variants[1].exits.operating_points[0].thresholds[0]"), r.stderr)
    XCTAssertTrue(r.stderr.contains("[0, 1]"), r.stderr)
    XCTAssertTrue(r.stderr.contains("found 1.5"), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: path("y.h5")))
  }
}

/// A two-variant bundle (`small`: 1 ms, 0.85; `big`: 2 ms, 0.9), written as raw JSON in the
/// bundle format so these tests exercise the CLI against the documented files.
enum CLIBundle {
  static func model(hidden: Int) -> Model {
    let graph = Graph(
      name: "mlp",
      nodes: [
        Node(name: "input", spec: .input(InputSpec(shape: [4])), inputs: []),
        Node(name: "hidden", spec: .dense(DenseSpec(units: hidden, activation: .relu)), inputs: ["input"]),
        Node(name: "out", spec: .dense(DenseSpec(units: 3, activation: .softmax)), inputs: ["hidden"]),
      ], outputs: ["out"])
    return Model(graph: graph, parameters: try! Parameters.initialize(for: graph, seed: UInt64(hidden)))
  }

  /// `big` with one exit head on `hidden` (`exit0`, softmax), outputs `[exit0, out]`, sharing
  /// `big`'s weights. MACs: hidden 24, head 18, out 18.
  static func exitModel() -> Model {
    let big = model(hidden: 6)
    var graph = big.graph
    graph.nodes.append(
      Node(name: "exit0", spec: .dense(DenseSpec(units: 3, activation: .softmax)), inputs: ["hidden"]))
    graph.outputs = ["exit0", "out"]
    var parameters = big.parameters
    var g = SeededGenerator(seed: 5)
    parameters["exit0", "kernel"] = Tensor.normal([6, 3], std: 2, using: &g)
    parameters["exit0", "bias"] = Tensor.zeros([3])
    return Model(graph: graph, parameters: parameters)
  }

  /// `big`'s exit plan: `drop-1` (threshold 0.5, 0.895, 1.5 ms expected) and `budget-0.3`
  /// (threshold 0: every input leaves at the exit; 0.86, 0.8 ms).
  static func exitPlan(thresholds: [Double] = [0.5, 0]) -> [String: Any] {
    func point(_ name: String, _ t: Double, _ accuracy: Double, _ ms: Double) -> [String: Any] {
      [
        "name": name, "kind": name.hasPrefix("drop") ? "accuracy-drop" : "budget", "target": 1,
        "thresholds": [t], "exit_rates": [0.5, 0.5], "expected_macs": 50, "expected_latency_ms": ms,
        "validation_accuracy": accuracy, "test_accuracy": accuracy, "test_exit_rates": [0.5, 0.5],
        "test_expected_macs": 50,
      ]
    }
    return [
      "file": "variants/big_exits.h5", "confidence": "max-softmax",
      "exits": [
        [
          "output": "exit0", "block": "hidden", "node": "hidden", "head": "dense", "macs": 42,
          "head_macs": 18,
          "predicted_latency_ms": 1, "head_predicted_latency_ms": 0.1, "validation_accuracy": 0.8,
        ]
      ],
      "final_macs": 60, "final_predicted_latency_ms": 2.1,
      "operating_points": [
        point("drop-1", thresholds[0], 0.895, 1.5), point("budget-0.3", thresholds[1], 0.86, 0.8),
      ],
    ]
  }

  static func write(to dir: URL, exits: [String: Any]? = nil) throws {
    try FileManager.default.createDirectory(
      at: dir.appendingPathComponent("variants"), withIntermediateDirectories: true)
    let specs: [(id: String, hidden: Int, accuracy: Double, ms: Double, mb: Int)] = [
      ("small", 2, 0.85, 1, 2), ("big", 6, 0.9, 2, 8),
    ]
    var variants: [[String: Any]] = []
    var rows: [[String: Any]] = []
    for s in specs {
      try KerasModelWriter.save(
        model(hidden: s.hidden), to: dir.appendingPathComponent("variants/\(s.id).h5").path)
      let genome: [String: Any] = [
        "blocks": [["block": "hidden", "branch": "base", "width": 1, "bits": 32]], "exit": "main",
      ]
      variants.append([
        "id": s.id, "file": "variants/\(s.id).h5", "genome": genome,
        "genome_key": "hidden=base@1/32 exit=main",
        "accuracy": s.accuracy, "search_accuracy": s.accuracy, "latency_ms": s.ms,
        "predicted_latency_ms": s.ms,
        "params": 10, "macs": 10, "weight_bytes": 100, "peak_memory_bytes": s.mb << 20, "energy_mj": s.ms,
      ])
      if s.id == "big", let exits {
        variants[variants.count - 1]["exits"] = exits
        variants[variants.count - 1]["macs"] = 42
        try KerasModelWriter.save(exitModel(), to: dir.appendingPathComponent("variants/big_exits.h5").path)
      }
      rows.append([
        "variant": s.id, "device": "host", "source": "measured", "context": "nominal", "latency_ms": s.ms,
        "latency_std_ms": 0.1, "energy_mj": s.ms, "memory_bytes": s.mb << 20, "accuracy": s.accuracy,
        "feasible": true,
      ])
    }
    try HandWrittenBundle.writeJSON(
      variants: variants, rows: rows, to: dir, sourceLatencyMs: 2, paretoSize: 2)
  }
}
