import AdaBundle
import AdaFormats
import AdaIO
import AdaNN
import AdaPipeline
import AdaRecipe
import AdaTensor
import AdaTrain
import Foundation
import TestSupport
import XCTest

/// End-to-end runs of the pipeline on a few hundred Fashion-MNIST examples (seconds each).
final class CompressPipelineTests: XCTestCase {
  var directory = ""

  override func setUpWithError() throws {
    directory = NSTemporaryDirectory() + "adascale-pipeline-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

  static func recipeText(output: String, extra: String = "", outputKeys: String = "") -> String {
    """
    name: tiny
    model:
      file: \(Fixtures.path("keras/fmnist_cnn.h5"))
    dataset: {source: fashion-mnist, validation: 120, calibration: 64, train-limit: 440, test-limit: 200}
    supernet:
      widths: [1.0, 0.5]
      branches: [low-rank:0.25]
      bits: [32, 8]
      exits: none
      training: {epochs: 1, batch-size: 32, recalibration-batches: 2}
    search: {population: 4, generations: 2, workers: 2}
    targets:
      devices: [host, raspberry-pi-4]
      contexts: {normal: {cpu: 1.0}, busy: {cpu: 0.5}}
    output: {directory: \(output), variants: 3\(outputKeys)}
    \(extra)
    """
  }

  func run(_ text: String, name: String = "r.yaml", log: PipelineLog = .silent) throws
    -> CompressPipeline.Result
  {
    let path = directory + "/" + name
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return try CompressPipeline.run(
      try Recipe.load(path: path),
      options: CompressPipeline.Options(
        version: "test", compareRandom: false, probeBudgetMs: 1, latencyCache: directory + "/latency"),
      log: log)
  }

  /// The manifest's accuracy is that of exactly the weights in each variant file, read back
  /// through the Keras reader; the lookup table covers every variant × device × context. A
  /// second fresh run of the same recipe (sharing the machine's op latency table) finds the same
  /// genomes and writes bit-identical weights.
  func testBundleScoresWhatTheManifestSaysAndRunsAreReproducible() throws {
    let result = try run(Self.recipeText(output: directory + "/a"), name: "a.yaml")
    let m = result.manifest
    XCTAssertFalse(m.variants.isEmpty)
    XCTAssertEqual(
      m.preprocessing,
      Manifest.Preprocessing(
        resize: nil, channels: nil, mode: "unit", formula: "x / 255", inputShape: [28, 28, 1]))
    let test = try DatasetSource.resolve("fashion-mnist").load(.test, limit: 200)
    for v in m.variants {
      let (model, _) = try KerasModelReader.loadWithQuantized(path: result.bundle + "/" + v.file)
      let accuracy = try Trainer.evaluate(
        model, on: test, batchSize: 100, objective: ClassificationObjective()
      )
      .accuracy
      XCTAssertEqual(accuracy, v.accuracy, accuracy: 1e-9, v.id)
      XCTAssertGreaterThan(v.latencyMs, 0)
    }
    let lut = try JSONDecoder().decode(
      LookupTable.self, from: Data(contentsOf: URL(fileURLWithPath: result.bundle + "/lut.json")))
    XCTAssertEqual(lut.rows.count, m.variants.count * 2 * 2)
    for file in ["manifest.json", "lut.csv", "ops-lut.json", "report.md", "pareto.svg"] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: result.bundle + "/" + file), file)
    }
    // Fastest first by the per-op table's prediction, which picked them (the measured latency_ms
    // can swap neighbours on a busy machine).
    XCTAssertEqual(
      m.variants.map(\.predictedLatencyMs), m.variants.map(\.predictedLatencyMs).sorted(), "fastest first")

    let again = try run(Self.recipeText(output: directory + "/b"), name: "b.yaml")
    XCTAssertEqual(m.variants.map(\.genomeKey), again.manifest.variants.map(\.genomeKey))
    for (va, vb) in zip(m.variants, again.manifest.variants) {
      let ma = try KerasModelReader.load(path: result.bundle + "/" + va.file)
      let mb = try KerasModelReader.load(path: again.bundle + "/" + vb.file)
      XCTAssertEqual(ma.parameters, mb.parameters, va.id)
    }
  }

  /// With `finetune-slack`, the search keeps configurations below the recipe's floor, and each
  /// fine-tuned variant is held to the floor itself on the validation split: what ships meets
  /// it, what does not is logged and dropped.
  func testFineTuneSlackHoldsEveryShippedVariantToTheRecipesOwnFloor() throws {
    let lines = LockedLines()
    let text = Self.recipeText(
      output: directory + "/s", extra: "constraints: {max-accuracy-drop: 0.01}",
      outputKeys: ", finetune-epochs: 1, finetune-slack: 0.3")
    let result = try run(
      text, log: PipelineLog(write: { lines.append($0) }, trainingReporter: SilentReporter()))
    let recipe = try Recipe.load(path: directory + "/r.yaml")
    let source = try KerasModelReader.load(path: Fixtures.path("keras/fmnist_cnn.h5"))
    let validation = try PipelineData.load(recipe, for: source.graph).searchValidation
    func accuracy(_ model: Model) throws -> Double {
      try Trainer.evaluate(model, on: validation, batchSize: 60, objective: ClassificationObjective())
        .accuracy
    }
    let floor = try accuracy(source) - 0.01
    let log = lines.all
    XCTAssertTrue(log.contains { $0.contains("search floor") && $0.contains("30.0 points") }, "\(log)")
    let checked = log.filter { $0.contains("after the fine-tune") }
    let dropped = log.filter { $0.contains("not shipped, below the floor") }
    XCTAssertEqual(checked.count, result.manifest.variants.count + dropped.count, "\(log)")
    XCTAssertFalse(dropped.isEmpty, "the slack let the search keep configurations the floor refuses: \(log)")
    let notes = result.report.notes.filter { $0.hasPrefix("not shipped, below the floor") }
    XCTAssertEqual(notes.count, 1, "\(result.report.notes)")
    XCTAssertEqual(notes.first?.components(separatedBy: "; ").count, dropped.count)
    XCTAssertFalse(result.manifest.variants.isEmpty)
    for v in result.manifest.variants {
      let model = try KerasModelReader.load(path: result.bundle + "/" + v.file)
      XCTAssertGreaterThanOrEqual(try accuracy(model), floor - 1e-9, v.id)
    }
  }

  func testImpossibleConstraintFailsBeforeTrainingNamingTheKey() throws {
    let text = Self.recipeText(output: directory + "/c", extra: "constraints: {min-accuracy: 0.999}")
    XCTAssertThrowsError(try run(text)) { error in
      let e = error as? AdaError
      XCTAssertEqual(e?.path, "constraints.min-accuracy")
      XCTAssertTrue(e?.file?.hasSuffix("r.yaml") ?? false)
    }
    XCTAssertFalse(
      FileManager.default.fileExists(atPath: directory + "/c.work/supernet"), "failed before training")
  }

  func testExistingBundleIsRefusedBeforeAnyWork() throws {
    try FileManager.default.createDirectory(atPath: directory + "/d", withIntermediateDirectories: true)
    try "x".write(toFile: directory + "/d/manifest.json", atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try run(Self.recipeText(output: directory + "/d"))) { error in
      XCTAssertEqual((error as? AdaError)?.path, "output.directory")
    }
  }
}

/// Log lines collected from the pipeline (which may write from worker threads).
final class LockedLines: @unchecked Sendable {
  private let lock = NSLock()
  private var lines: [String] = []
  func append(_ line: String) { lock.withLock { lines.append(line) } }
  var all: [String] { lock.withLock { lines } }
}
