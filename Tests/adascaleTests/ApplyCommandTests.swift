import AdaCompress
import AdaIO
import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// `adascale apply`: exit codes, the report, and an output that adascale (and Keras, see
/// docs/operators.md) loads and that predicts what the same operators give in-process.
final class ApplyCommandTests: XCTestCase {
  var dir: URL!

  override func setUp() { dir = Fixtures.temporaryDirectory() }
  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

  func json(_ r: CLI.Result) throws -> [String: Any] {
    try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
  }

  /// The fixture's input images.
  func fixtureInputs(_ name: String) throws -> Tensor {
    try TensorFile.read(path: Fixtures.path("keras/\(name).io.h5"), dataset: "x")
  }

  func testOutputLoadsBackAndPredictsLikeTheInProcessResult() throws {
    let modelPath = Fixtures.path("keras/fmnist_cnn.h5")
    let out = path("small.h5")
    let r = try CLI.run([
      "apply", "--model", modelPath, "--op", "low-rank:0.25", "--op", "quantize:8", "--output", out, "--json",
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    let (written, quantized) = try KerasModelReader.loadWithQuantized(path: out)

    let original = try KerasModelReader.load(path: modelPath)
    let chain = OperatorChain(
      try OperatorParser.parse(["low-rank:0.25", "quantize:8"]).map { OperatorChain.Step($0) })
    let expected = try chain.apply(to: original, quantized: [:], selecting: .all)
    XCTAssertEqual(written.graph.nodes.map(\.name), expected.model.graph.nodes.map(\.name))
    XCTAssertEqual(quantized, expected.quantized)
    let x = try fixtureInputs("fmnist_cnn")
    let ours = try Executor(graph: written.graph).predict(x, parameters: written.parameters)[0]
    let reference = try Executor(graph: expected.model.graph).predict(
      x, parameters: expected.model.parameters)[0]
    XCTAssertEqual(ours, reference)

    let report = try json(r)
    XCTAssertEqual(report["operations"] as? [String], ["low-rank:0.25", "quantize:8"])
    let before = try XCTUnwrap(report["before"] as? [String: Int])
    let after = try XCTUnwrap(report["after"] as? [String: Int])
    XCTAssertEqual(before["params"], 220_618)
    XCTAssertEqual(before["bytes"], 4 * 220_618)
    XCTAssertEqual(after["params"], expected.report.after.params)
    XCTAssertEqual(after["macs"], expected.report.after.macs)
    XCTAssertEqual(after["bytes"], expected.model.weightBytes(quantized: expected.quantized))
    let layers = try XCTUnwrap(report["layers"] as? [[String: Any]])
    XCTAssertEqual(layers.map { $0["layer"] as? String }, ["conv1", "conv2", "fc1", "fc2"])
    let fc1 = layers[2]
    XCTAssertEqual(fc1["operation"] as? String, "low-rank:0.25 → quantize:8")
    XCTAssertEqual((fc1["before"] as? [String: Int])?["bytes"], 4 * 200_768)
    let fc1After = try XCTUnwrap(fc1["after"] as? [String: Int])
    XCTAssertEqual(fc1After["params"], 51_264)
    let perLayerBytes = layers.reduce(0) { $0 + (($1["after"] as? [String: Int])?["bytes"] ?? 0) }
    XCTAssertEqual(perLayerBytes + 4 * (128 + 256), after["bytes"], "rewritten layers plus bn1 and bn2")
    XCTAssertEqual((report["quantized"] as? [String: Int])?.count, quantized.count)
  }

  func testTextReportShowsEachLayerAndTheTotals() throws {
    let r = try CLI.run([
      "apply", "--model", Fixtures.path("keras/fmnist_cnn.h5"), "--op", "gap-head", "--output",
      path("gap.h5"),
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("fc1      gap-head"), r.stdout)
    XCTAssertTrue(r.stdout.contains("200,768 → 0"), r.stdout)
    XCTAssertTrue(r.stdout.contains("total: params 220,618 → "), r.stdout)
    XCTAssertTrue(r.stdout.contains("saved \(path("gap.h5"))"), r.stdout)
  }

  func testEarlyExitsBecomeExtraOutputsAndTheMainOutputIsUnchanged() throws {
    let modelPath = Fixtures.path("keras/mobilenet_tiny.h5")
    let out = path("exits.h5")
    let r = try CLI.run([
      "apply", "--model", modelPath, "--op", "early-exit:block_2,block_1", "--output", out, "--json",
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(
      try json(r)["outputs"] as? [String], ["predictions", "block_1_add_exit", "block_2_project_BN_exit"])
    let written = try KerasModelReader.load(path: out)
    let original = try KerasModelReader.load(path: modelPath)
    let x = try fixtureInputs("mobilenet_tiny")
    let outputs = try Executor(graph: written.graph).predict(x, parameters: written.parameters)
    XCTAssertEqual(outputs.count, 3)
    XCTAssertEqual(
      outputs[0], try Executor(graph: original.graph).predict(x, parameters: original.parameters)[0])
  }

  func testFineTuningReportsEpochsAndAccuracyAndKeepsKernelsQuantized() throws {
    try XCTSkipUnless(
      FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"),
      "Fashion-MNIST is installed by `make deps`")
    let out = path("tuned.h5")
    let r = try CLI.run(
      [
        "apply", "--model", Fixtures.path("keras/fmnist_cnn.h5"), "--op", "quantize:4", "--layers", "fc1,fc2",
        "--finetune-epochs", "1", "--dataset", "fashion-mnist", "--limit", "128", "--output", out, "--json",
      ], timeout: 600)
    XCTAssertEqual(r.status, 0, r.stderr)
    let report = try json(r)
    let fineTune = try XCTUnwrap(report["fineTune"] as? [String: Any])
    XCTAssertEqual(fineTune["examples"] as? Int, 128)
    XCTAssertEqual(fineTune["learningRate"] as? Double, 0.0003)
    XCTAssertEqual(fineTune["decay"] as? String, "cosine", "the default schedule")
    XCTAssertEqual((fineTune["epochs"] as? [Any])?.count, 1)
    let accuracy = try XCTUnwrap(report["accuracy"] as? [String: Any])
    XCTAssertEqual(accuracy["examples"] as? Int, 128)
    XCTAssertEqual(report["quantized"] as? [String: Int], ["fc1/kernel": 4, "fc2/kernel": 4])
    let (written, quantized) = try KerasModelReader.loadWithQuantized(path: out)
    XCTAssertEqual(quantized.keys.sorted(), ["fc1/kernel", "fc2/kernel"])
    let original = try KerasModelReader.load(path: Fixtures.path("keras/fmnist_cnn.h5"))
    XCTAssertNotEqual(
      written.parameters["conv1", "kernel"], original.parameters["conv1", "kernel"], "not fine-tuned")
  }

  func testFineTuningWeighsEarlyExitsByExitWeight() throws {
    try XCTSkipUnless(
      FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"),
      "Fashion-MNIST is installed by `make deps`")
    let model = Fixtures.path("keras/fmnist_cnn.h5")
    /// The report's output weights and the written exit head's kernel.
    func apply(_ extra: [String]) throws -> (weights: [Double]?, exitKernel: Tensor?) {
      let out = path("x.h5")
      let r = try CLI.run(
        [
          "apply", "--model", model, "--op", "early-exit:pool1", "--dataset", "fashion-mnist", "--limit",
          "64",
          "--output", out, "--json",
        ] + extra, timeout: 600)
      XCTAssertEqual(r.status, 0, r.stderr)
      let fineTune = try json(r)["fineTune"] as? [String: Any]
      return (
        fineTune?["outputWeights"] as? [Double],
        try KerasModelReader.load(path: out).parameters["pool1_exit", "kernel"]
      )
    }
    let untrained = try XCTUnwrap(try apply([]).exitKernel)
    let byDefault = try apply(["--finetune-epochs", "1"])
    let weights = try XCTUnwrap(byDefault.weights)
    XCTAssertEqual(weights.count, 2, "main output, then the exit")
    XCTAssertEqual(weights[0], 1)
    XCTAssertEqual(weights[1], 0.1, accuracy: 1e-6)
    XCTAssertNotEqual(byDefault.exitKernel, untrained, "the exit trains")
    // Weight 0 reaches the trainer: the parameters only the exit uses get no update.
    let frozen = try apply(["--finetune-epochs", "1", "--exit-weight", "0"])
    XCTAssertEqual(frozen.weights, [1, 0])
    XCTAssertEqual(frozen.exitKernel, untrained)
    let bad = try CLI.run([
      "apply", "--model", Fixtures.path("keras/mlp.h5"), "--op", "quantize:8", "--exit-weight", "-1",
      "--output", path("y.h5"),
    ])
    XCTAssertEqual(bad.status, 1)
    XCTAssertTrue(bad.stderr.contains("--exit-weight"), bad.stderr)
  }

  func testABadOperatorIsAUserErrorNamingTheString() throws {
    let out = path("never.h5")
    let r = try CLI.run([
      "apply", "--model", Fixtures.path("keras/mlp.h5"), "--op", "lowrank:0.3", "--output", out,
    ])
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertTrue(r.stderr.hasPrefix("error: "), r.stderr)
    XCTAssertTrue(r.stderr.contains("'lowrank:0.3'"), r.stderr)
    XCTAssertTrue(r.stderr.contains("low-rank, prune-channels"), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    let bits = try CLI.run([
      "apply", "--model", Fixtures.path("keras/mlp.h5"), "--op", "quantize:3", "--output", out,
    ])
    XCTAssertEqual(bits.status, 1)
    XCTAssertTrue(bits.stderr.contains("'quantize:3'") && bits.stderr.contains("8 or 4"), bits.stderr)
  }

  func testUsageErrorsExitWithOne() throws {
    let model = Fixtures.path("keras/mlp.h5")
    let cases: [([String], String)] = [
      (["--output", path("a.h5")], "--op"),
      (["--op", "quantize:8", "--finetune-epochs", "1", "--output", path("a.h5")], "--dataset"),
      (["--op", "fire:0.25", "--layers", "dense_relu", "--output", path("a.h5")], "dense_relu"),
      (["--op", "quantize:8", "--layers", "no_such_layer", "--output", path("a.h5")], "no_such_layer"),
    ]
    for (args, mention) in cases {
      let r = try CLI.run(["apply", "--model", model] + args)
      XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
      XCTAssertTrue(r.stderr.contains(mention), "\(args): \(r.stderr)")
    }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [], "nothing written")
  }
}
