import AdaIO
import AdaProfile
import AdaRecipe
import AdaTensor
import AdaTrain
import Foundation
import TestSupport
import XCTest

final class RecipeTests: XCTestCase {
  func testDefaultRecipeParsesIntoTheDocumentedConfiguration() throws {
    let r = try Recipe.load(path: RecipeText.root + "/recipes/fmnist.yaml", baseDirectory: RecipeText.root)
    XCTAssertEqual(r.name, "fmnist")
    var training = Recipe.BaselineTraining()
    training.epochs = 3
    XCTAssertEqual(r.model, .architecture(path: "recipes/models/fmnist_cnn_wide.yaml", training: training))
    XCTAssertEqual(r.dataset.source, "fashion-mnist")
    XCTAssertEqual(
      [r.dataset.validation, r.dataset.searchExamples, r.dataset.calibration], [16000, 4000, 2000])
    XCTAssertEqual(r.supernet.blocks, .auto)
    XCTAssertEqual(r.supernet.widths, [1.0, 0.75, 0.5, 0.25])
    XCTAssertEqual(r.supernet.branches, ["low-rank:0.25", "depthwise-separable"])
    XCTAssertEqual(r.supernet.bits, [32, 8])
    XCTAssertEqual(r.supernet.exits, Recipe.SupernetSpec.Exits.none)
    XCTAssertEqual(r.supernet.training.epochs, 3)
    XCTAssertEqual(r.search.algorithm, .nsga2)
    XCTAssertEqual([r.search.population, r.search.generations], [24, 10])
    XCTAssertEqual(r.search.timeBudgetSeconds, 240)
    XCTAssertEqual(r.search.objectives, [.accuracy, .latency])
    XCTAssertEqual(r.targets.devices, ["host", "raspberry-pi-4", "phone-big-core"])
    XCTAssertEqual(r.targets.contexts.map(\.name), ["normal", "busy", "low-battery"])
    XCTAssertEqual(r.targets.contexts[1].context, DeviceContext(cpuShare: 0.5))
    XCTAssertEqual(r.targets.contexts[2].context, DeviceContext(cpuShare: 1, batteryLevel: 0.15))
    XCTAssertEqual(r.constraints, Recipe.Constraints(maxAccuracyDrop: 0.04))
    XCTAssertEqual(r.output.directory, "bundles/fmnist")
    XCTAssertEqual(r.output.workDirectory, "bundles/fmnist.work")
    XCTAssertEqual(r.output.variants, 8)
    XCTAssertEqual(try r.deviceProfiles().map(\.name), ["host", "raspberry-pi-4", "phone-big-core"])
    guard case .fashionMNIST = try r.datasetSource() else { return XCTFail("expected Fashion-MNIST") }
  }

  func testKerasRecipeNamesTheKerasModelAndOtherwiseMatchesTheDefault() throws {
    let keras = try Recipe.load(
      path: RecipeText.root + "/recipes/fmnist_keras.yaml", baseDirectory: RecipeText.root)
    let fmnist = try Recipe.load(
      path: RecipeText.root + "/recipes/fmnist.yaml", baseDirectory: RecipeText.root)
    XCTAssertEqual(keras.model, .file(path: "Tests/Fixtures/keras/fmnist_cnn.h5", config: nil))
    XCTAssertEqual(keras.model.path, "Tests/Fixtures/keras/fmnist_cnn.h5")
    XCTAssertEqual(keras.dataset, fmnist.dataset)
    XCTAssertEqual(keras.supernet, fmnist.supernet)
    XCTAssertEqual(keras.search, fmnist.search)
    XCTAssertEqual(keras.targets, fmnist.targets)
    XCTAssertEqual(keras.constraints, fmnist.constraints)
    XCTAssertNotEqual(keras.output.directory, fmnist.output.directory)
    XCTAssertNoThrow(try KerasModelReader.load(path: keras.resolve(keras.model.path)))
  }

  func testMinimalRecipeTakesEveryDefault() throws {
    let r = try Recipe.load(path: Fixtures.path("recipes/minimal.yaml"), baseDirectory: RecipeText.root)
    XCTAssertEqual(r.model, .architecture(path: "recipes/models/fmnist_cnn.yaml", training: .init()))
    let t = Recipe.BaselineTraining()
    XCTAssertEqual(t.epochs, 5)
    XCTAssertEqual(t.batchSize, 64)
    XCTAssertEqual(t.optimizer, .adam)
    XCTAssertEqual(t.learningRate, 0.001)
    XCTAssertEqual(t.schedule, .cosine)
    XCTAssertEqual(r.dataset, Recipe.DatasetSpec(source: "fashion-mnist"))
    XCTAssertEqual([r.dataset.validation, r.dataset.calibration], [5000, 2000])
    XCTAssertNil(r.dataset.trainLimit)
    XCTAssertNil(r.dataset.testLimit)
    XCTAssertEqual(r.supernet, Recipe.SupernetSpec())
    XCTAssertEqual(r.supernet.branches, ["low-rank:0.25", "depthwise-separable", "fire:0.5"])
    XCTAssertEqual(r.supernet.bits, [32, 8, 4])
    let s = r.supernet.training
    XCTAssertEqual([s.epochs, s.batchSize, s.randomSubnets, s.recalibrationBatches], [4, 64, 2, 8])
    XCTAssertEqual([s.learningRate, s.alpha, s.temperature], [0.001, 0.5, 2.0])
    XCTAssertEqual(r.search.algorithm, .nsga2)
    XCTAssertEqual([r.search.population, r.search.generations], [24, 15])
    XCTAssertEqual(r.search.timeBudgetSeconds, 600)
    XCTAssertEqual(r.search.workers, min(2, ProcessInfo.processInfo.activeProcessorCount))
    XCTAssertEqual(r.search.objectives, [.accuracy, .latency])
    XCTAssertEqual(r.targets.devices, ["host"])
    XCTAssertEqual(r.targets.contexts, [NamedContext(name: "normal", context: DeviceContext())])
    XCTAssertEqual(r.constraints, Recipe.Constraints())
    XCTAssertEqual(r.output.directory, "bundles/minimal")
    XCTAssertEqual(r.output.workDirectory, "bundles/minimal.work")
    XCTAssertEqual([r.output.variants, r.output.finetuneEpochs], [8, 0])
    XCTAssertEqual([r.output.finetuneLearningRate, r.output.finetuneSlack], [3e-4, 0])
    XCTAssertEqual(r.output.formats, [.keras, .onnx])
    let kerasOnly = try RecipeText.parse(RecipeText.base + "output: {formats: [keras]}\n")
    XCTAssertEqual(kerasOnly.output.formats, [.keras])
  }

  func testRelativePathsResolveAgainstTheBaseDirectoryAndAreKeptAsWritten() throws {
    let r = try RecipeText.parse(RecipeText.base + "output: {directory: out/b/, work-directory: /tmp/w}\n")
    XCTAssertEqual(r.baseDirectory, RecipeText.root)
    XCTAssertEqual(r.output.directory, "out/b")
    XCTAssertEqual(r.resolve(r.output.directory), RecipeText.root + "/out/b")
    XCTAssertEqual(r.resolve(r.output.workDirectory), "/tmp/w")
    XCTAssertEqual(r.resolve(r.model.path), RecipeText.root + "/recipes/models/fmnist_cnn.yaml")
    // Without a base directory the working directory is used: the same file does not exist
    // relative to a directory that lacks it.
    let elsewhere = Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: elsewhere) }
    XCTAssertThrowsError(
      try Recipe.parse(text: RecipeText.base, file: "t.yaml", baseDirectory: elsewhere.path))
  }

  func testTextHashIdentifiesTheTextExactly() throws {
    let a = try RecipeText.parse(RecipeText.base)
    let b = try RecipeText.parse(RecipeText.base)
    let c = try RecipeText.parse(RecipeText.base + "# a comment changes the text\n")
    XCTAssertEqual(a.textHash, b.textHash)
    XCTAssertNotEqual(a.textHash, c.textHash)
    XCTAssertEqual(a.textHash.count, 16)
    XCTAssertEqual(a.text, RecipeText.base)
    XCTAssertEqual(a.file, "t.yaml")
  }

  func testRecipeSurvivesAJSONRoundTrip() throws {
    let r = try Recipe.load(path: RecipeText.root + "/recipes/fmnist.yaml", baseDirectory: RecipeText.root)
    let data = try JSONEncoder().encode(r)
    XCTAssertEqual(try JSONDecoder().decode(Recipe.self, from: data), r)
  }

  func testFullRecipeReadsEveryKey() throws {
    let r = try RecipeText.parse(
      """
      name: full
      model:
        file: Tests/Fixtures/keras/mlp.weights.h5
        config: Tests/Fixtures/keras/mlp.config.json
      dataset: {source: fmnist, validation: 100, calibration: 50, train-limit: 1000, test-limit: 200}
      supernet:
        blocks: [dense_1, dense_2]
        widths: [0.5, 1, 0.25]
        branches: [fire, low-rank:r8, low-rank:0.5:any-size]
        bits: [4, 32]
        exits: [dense_1]
        training: {epochs: 2, batch-size: 32, learning-rate: 0.01, random-subnets: 0, alpha: 1,
                   temperature: 4, recalibration-batches: 2, seed: 7}
      search: {algorithm: random, population: 4, generations: 1, time-budget: 1.5h, seed: 3,
               workers: 1, objectives: [memory, accuracy, energy]}
      targets:
        devices: [recipes/devices/jetson-nano-cpu.yaml]
        contexts:
          hot: "cpu=0.5,freq=0.8,mem=512,battery=0.3,thermal=fair"
      constraints: {min-accuracy: 0.8, max-accuracy-drop: 0, max-latency-ms: 2.5, max-memory-mb: 1}
      output: {directory: /tmp/full-bundle, variants: 1, finetune-epochs: 1, finetune-learning-rate: 0.001, finetune-slack: 0.05, work-directory: w}

      """)
    XCTAssertEqual(
      r.model,
      .file(path: "Tests/Fixtures/keras/mlp.weights.h5", config: "Tests/Fixtures/keras/mlp.config.json"))
    XCTAssertEqual(r.dataset.trainLimit, 1000)
    XCTAssertEqual(r.dataset.testLimit, 200)
    XCTAssertEqual(r.supernet.blocks, .named(["dense_1", "dense_2"]))
    XCTAssertEqual(r.supernet.widths, [1, 0.5, 0.25])
    XCTAssertEqual(r.supernet.branches, ["fire:0.25", "low-rank:r8", "low-rank:0.5:any-size"])
    XCTAssertEqual(r.supernet.bits, [32, 4])
    XCTAssertEqual(r.supernet.exits, .named(["dense_1"]))
    XCTAssertEqual(r.supernet.training.seed, 7)
    XCTAssertEqual(r.supernet.training.alpha, 1)
    XCTAssertEqual(r.search.algorithm, .random)
    XCTAssertEqual(r.search.timeBudgetSeconds, 5400)
    XCTAssertEqual(r.search.objectives, [.accuracy, .memory, .energy])
    XCTAssertEqual(try r.deviceProfiles().map(\.name), ["jetson-nano-cpu"])
    XCTAssertEqual(
      r.targets.contexts.first?.context,
      DeviceContext(
        cpuShare: 0.5, frequencyScale: 0.8, memoryAvailableMB: 512, batteryLevel: 0.3, thermal: .fair))
    XCTAssertEqual(
      r.constraints,
      Recipe.Constraints(minAccuracy: 0.8, maxAccuracyDrop: 0, maxLatencyMs: 2.5, maxMemoryMB: 1))
    XCTAssertEqual(r.output.workDirectory, "w")
    XCTAssertEqual(r.output.finetuneEpochs, 1)
    XCTAssertEqual([r.output.finetuneLearningRate, r.output.finetuneSlack], [0.001, 0.05])
  }

  func testTimeBudgetAcceptsSecondsUnitsAndNull() throws {
    func budget(_ value: String) throws -> Double? {
      try RecipeText.parse(extending: "search: {time-budget: \(value)}\n").search.timeBudgetSeconds
    }
    XCTAssertEqual(try budget("90"), 90)
    XCTAssertEqual(try budget("\"90s\""), 90)
    XCTAssertEqual(try budget("10m"), 600)
    XCTAssertEqual(try budget("1h"), 3600)
    XCTAssertEqual(try budget("0.5"), 0.5)
    XCTAssertNil(try budget("null"))
  }

  func testBaselineTrainingBuildsTheTrainConfigAdascaleTrainWould() throws {
    let r = try RecipeText.parse(
      """
      name: t
      model:
        architecture: recipes/models/fmnist_cnn.yaml
        train: {epochs: 3, optimizer: sgd, schedule: step, seed: 9}
      dataset: {source: fashion-mnist}

      """)
    guard case .architecture(_, let training) = r.model else { return XCTFail("expected an architecture") }
    XCTAssertEqual(training.learningRate, 0.01, "sgd's default learning rate")
    let config = training.trainConfig(stepsPerEpoch: 100)
    XCTAssertEqual(config.epochs, 3)
    XCTAssertEqual(config.seed, 9)
    XCTAssertEqual(config.optimizer, .sgd(momentum: 0.9, nesterov: false))
    XCTAssertEqual(config.schedule, .stepDecay(initial: 0.01, every: 100, factor: 0.1))
    var cosine = Recipe.BaselineTraining()
    cosine.epochs = 2
    XCTAssertEqual(cosine.trainConfig(stepsPerEpoch: 10).schedule, .cosine(initial: 0.001, decaySteps: 20))
  }
}

final class RecipeDocumentationTests: XCTestCase {
  /// The YAML examples in docs/recipes.md, in order.
  func yamlExamples() throws -> [String] {
    let doc = try String(contentsOfFile: RecipeText.root + "/docs/recipes.md", encoding: .utf8)
    return doc.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
  }

  func testDocumentedExamplesParseAsDescribed() throws {
    let examples = try yamlExamples()
    XCTAssertEqual(examples.count, 2)
    let minimal = try RecipeText.parse(examples[0])
    XCTAssertEqual(minimal.supernet, Recipe.SupernetSpec())
    XCTAssertEqual(minimal.output.directory, "bundles/minimal")
    // The full example names model files of its own: give it a base directory that has them.
    let base = Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: base) }
    let models = base.appendingPathComponent("models")
    try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: Fixtures.url("keras/mlp.weights.h5"), to: models.appendingPathComponent("cnn.weights.h5"))
    try FileManager.default.copyItem(
      at: Fixtures.url("keras/mlp.config.json"), to: models.appendingPathComponent("cnn.config.json"))
    try FileManager.default.createDirectory(
      at: base.appendingPathComponent("recipes"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: URL(fileURLWithPath: RecipeText.root + "/recipes/devices"),
      to: base.appendingPathComponent("recipes/devices"))
    let full = try Recipe.parse(text: examples[1], file: "full.yaml", baseDirectory: base.path)
    XCTAssertEqual(full.supernet.exits, .named(["conv2d_2"]))
    XCTAssertEqual(full.search.objectives, [.accuracy, .latency, .energy])
    XCTAssertEqual(full.targets.contexts.map(\.name), ["normal", "busy", "low-battery", "hot"])
    XCTAssertEqual(full.targets.contexts[3].context.thermal, .serious)
    XCTAssertEqual(full.constraints.maxMemoryMB, 16)
  }
}
