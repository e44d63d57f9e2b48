import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaRecipe

/// Every class of recipe mistake fails with an `AdaError` naming the file, the line and the key
/// path. Inline recipes extend `RecipeText.base` (5 lines), so the first extra line is line 6.
final class RecipeErrorTests: XCTestCase {
  // MARK: Structure: required, type, unknown keys

  func testMissingRequiredKeysAreNamed() {
    assertRecipeError(
      "name: t\nmodel: {architecture: recipes/models/fmnist_cnn.yaml}\n",
      "t.yaml:1: dataset: required key is missing", kind: .missing)
    assertRecipeError("model: {file: x.h5}\n", "t.yaml:1: name: required key is missing", kind: .missing)
    assertRecipeError(
      "name: t\nmodel:\n  architecture: recipes/models/fmnist_cnn.yaml\ndataset:\n  validation: 10\n",
      "t.yaml:5: dataset.source: required key is missing", kind: .missing)
    assertRecipeError(
      "name: t\nmodel: {}\ndataset: {source: fmnist}\n", "t.yaml:2: model: needs model.file", kind: .missing)
    assertRecipeError("", "t.yaml:1: the recipe is empty")
  }

  func testWrongTypesSayWhatWasExpectedAndFound() {
    assertRecipeError(
      extending: "search:\n  population: many\n",
      "t.yaml:7: search.population: expected an integer, found 'many'")
    assertRecipeError(
      extending: "supernet:\n  widths: 0.5\n", "t.yaml:7: supernet.widths: expected a list, found '0.5'")
    assertRecipeError(
      extending: "targets: [host]\n",
      "t.yaml:6: targets: expected a mapping with keys devices, contexts, found a list")
    assertRecipeError(
      extending: "supernet:\n  blocks: all\n",
      "t.yaml:7: supernet.blocks: expected auto, hidden or a list of layer names, found 'all'")
    assertRecipeError(
      extending: "supernet:\n  exits: [[a]]\n", "t.yaml:7: supernet.exits[0]: expected a string, found a list"
    )
    assertRecipeError("name: [a]\n", "t.yaml:1: name: expected a string, found a list")
    assertRecipeError("name: t\n  bad: : indent\n", "t.yaml: not valid YAML")
  }

  func testUnknownKeysAreNamedWithTheAllowedOnesAndATypoSuggestion() {
    assertRecipeError(
      extending: "supernet:\n  widht: [1.0]\n",
      "t.yaml:7: supernet.widht: unknown key 'widht' (did you mean 'widths'?); "
        + "allowed here: blocks, widths, branches, bits, exits, depth, min-depth, resolutions, training")
    assertRecipeError(
      extending: "serach: {population: 8}\n",
      "t.yaml:6: serach: unknown key 'serach' (did you mean 'search'?)")
    assertRecipeError(
      extending: "output: {colour: blue}\n",
      "t.yaml:6: output.colour: unknown key 'colour'; allowed here: directory,")
    assertRecipeError(
      extending: "supernet:\n  training:\n    epoch: 3\n",
      "t.yaml:8: supernet.training.epoch: unknown key 'epoch' (did you mean 'epochs'?)")
  }

  // MARK: Operators

  func testUnknownBranchOperatorIsNamedAtItsLineWithASuggestion() {
    do {
      _ = try Recipe.load(path: Fixtures.path("recipes/bad_branch.yaml"), baseDirectory: RecipeText.root)
      XCTFail("expected an error")
    } catch {
      XCTAssertTrue(
        error.description.hasSuffix(
          "recipes/bad_branch.yaml:14: supernet.branches[1]: unknown operator 'low-rnak' (did you mean 'low-rank'?); "
            + "branch operators: low-rank[:RATIO|rRANK][:any-size], depthwise-separable[:MULT], fire[:RATIO]"),
        error.description)
      XCTAssertEqual(error.kind, .invalidValue)
    }
  }

  func testOperatorsThatAreNotBranchesSayWhichKeyIsForThem() {
    assertRecipeError(
      extending: "supernet:\n  branches: [fire, quantize:8]\n",
      "t.yaml:7: supernet.branches[1]: 'quantize' is not a branch operator: weight bits are chosen by supernet.bits"
    )
    assertRecipeError(
      extending: "supernet:\n  branches: [prune-channels:0.5]\n",
      "supernet.branches[0]: 'prune-channels' is not a branch operator: channel pruning is what supernet.widths does"
    )
    assertRecipeError(
      extending: "supernet:\n  branches: [early-exit:conv2d_1]\n",
      "'early-exit' is not a branch operator: exits are chosen by supernet.exits")
    assertRecipeError(extending: "supernet:\n  branches: [gap-head]\n", "'gap-head' is not a branch operator")
    assertRecipeError(
      extending: "supernet:\n  branches: [base]\n",
      "supernet.branches[0]: 'base' (the source layer) is always a branch")
  }

  func testBadOperatorArgumentsAndDuplicateBranchesAreLocated() {
    assertRecipeError(
      extending: "supernet:\n  branches: [fire:2]\n",
      "t.yaml:7: supernet.branches[0]: operator 'fire:2': the squeeze ratio must be a number in (0, 1]")
    assertRecipeError(
      extending: "supernet:\n  branches: [depthwise-separable:0]\n",
      "supernet.branches[0]: operator 'depthwise-separable:0': the depth multiplier must be an integer ≥ 1, found '0'"
    )
    assertRecipeError(
      extending: "supernet:\n  branches: [fire, fire:0.25]\n",
      "t.yaml:7: supernet.branches[1]: branch 'fire:0.25' is listed twice")
  }

  // MARK: Files: model, dataset, devices

  func testModelFileProblemsNameModelFile() {
    let head = "name: t\ndataset: {source: fmnist}\nmodel:\n"
    assertRecipeError(
      head + "  file: models/none.h5\n",
      "t.yaml:4: model.file: model file not found: \(RecipeText.root)/models/none.h5", kind: .fileNotFound)
    assertRecipeError(
      head + "  file: recipes/fmnist.yaml\n",
      "t.yaml:4: model.file: expected a Keras model (.h5, .keras, or .weights.h5 + model.config)")
    assertRecipeError(
      head + "  file: Tests/Fixtures/keras/fmnist_cnn.h5\n  architecture: recipes/models/fmnist_cnn.yaml\n",
      "t.yaml:5: model.architecture: give exactly one of model.file (a trained Keras model) or model.architecture"
    )
    assertRecipeError(
      head + "  file: Tests/Fixtures/keras/fmnist_cnn.h5\n  train: {epochs: 1}\n",
      "t.yaml:5: model.train: model.train only goes with model.architecture")
    assertRecipeError(
      head + "  file: Tests/Fixtures/keras/fmnist_cnn.h5\n  config: Tests/Fixtures/keras/mlp.config.json\n",
      "t.yaml:5: model.config: model.config only goes with a .weights.h5 file")
    assertRecipeError(
      head + "  file: Tests/Fixtures/keras/mlp.weights.h5\n  config: nowhere.json\n",
      "t.yaml:5: model.config: config file not found", kind: .fileNotFound)
    assertRecipeError(
      head + "  architecture: recipes/models/nothing.yaml\n",
      "t.yaml:4: model.architecture: architecture file not found",
      kind: .fileNotFound)
  }

  func testWeightsOnlyFileWithoutAnyArchitectureIsAnError() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let weights = dir.appendingPathComponent("lonely.weights.h5")
    try FileManager.default.copyItem(at: Fixtures.url("keras/mlp.weights.h5"), to: weights)
    assertRecipeError(
      "name: t\ndataset: {source: fmnist}\nmodel: {file: \(weights.path)}\n",
      "t.yaml:3: model.file: a .weights.h5 file holds no architecture: add model.config", kind: .missing)
  }

  func testMissingDatasetNamesDatasetSource() {
    let head = "name: t\nmodel: {architecture: recipes/models/fmnist_cnn.yaml}\ndataset:\n"
    assertRecipeError(
      head + "  source: data/none.h5\n",
      "t.yaml:4: dataset.source: dataset file not found: \(RecipeText.root)/data/none.h5",
      kind: .fileNotFound)
    assertRecipeError(
      head + "  source: fashion-mnits\n",
      "t.yaml:4: dataset.source: unknown dataset 'fashion-mnits' (did you mean 'fashion-mnist'?)",
      kind: .invalidValue)
    assertRecipeError(
      head + "  source: cifar10\n", "t.yaml:4: dataset.source: unknown dataset 'cifar10': not a known name")
  }

  func testMissingFashionMNISTFilesNameDatasetSourceAndHowToInstallThem() throws {
    let empty = Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: empty) }
    let context = DecodingContext(baseDirectory: RecipeText.root, fashionMNISTDirectory: empty.path)
    XCTAssertThrowsError(try Recipe.parse(text: RecipeText.base, file: "t.yaml", context: context)) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .fileNotFound)
      XCTAssertEqual(
        e.description,
        "t.yaml:5: dataset.source: Fashion-MNIST files not found: no train-images-idx3-ubyte.gz in \(empty.path)"
      )
      XCTAssertTrue(e.hint?.contains("dataset-fashion-mnist") == true, e.hint ?? "no hint")
    }
  }

  func testDatasetSplitsMustLeaveTrainingExamples() {
    assertRecipeError(
      "name: t\nmodel: {architecture: recipes/models/fmnist_cnn.yaml}\ndataset:\n  source: fmnist\n  train-limit: 100\n  validation: 100\n",
      "t.yaml:6: dataset.validation: holding out 100 examples leaves none of the train-limit 100")
    assertRecipeError(
      "name: t\nmodel: {architecture: recipes/models/fmnist_cnn.yaml}\ndataset: {source: fmnist, train-limit: 300}\n",
      "t.yaml:3: dataset.train-limit: train-limit 300 is not more than the default validation hold-out 5000")
    assertRecipeError(
      "name: t\nmodel: {architecture: recipes/models/fmnist_cnn.yaml}\ndataset: {source: fmnist, train-limit: 300, validation: 100, calibration: 250}\n",
      "dataset.calibration: calibration needs 250 training examples, but train-limit 300 minus validation 100 leaves 200"
    )
    assertRecipeError(
      "name: t\nmodel: {architecture: recipes/models/fmnist_cnn.yaml}\ndataset: {source: fmnist, test-limit: 0}\n",
      "t.yaml:3: dataset.test-limit: expected an integer ≥ 1, found 0")
  }

  func testUnknownDeviceIsNamedAtItsIndexWithASuggestion() {
    do {
      _ = try Recipe.load(path: Fixtures.path("recipes/unknown_device.yaml"), baseDirectory: RecipeText.root)
      XCTFail("expected an error")
    } catch {
      XCTAssertTrue(
        error.description.contains(
          "recipes/unknown_device.yaml:11: targets.devices[1]: unknown device 'raspbery-pi-4' "
            + "(did you mean 'raspberry-pi-4'?); available: host, jetson-nano-cpu, phone-big-core, raspberry-pi-4"
        ),
        error.description)
    }
    assertRecipeError(
      extending: "targets: {devices: []}\n", "t.yaml:6: targets.devices: list at least one device")
    assertRecipeError(
      extending: "targets: {devices: [host, host]}\n", "targets.devices[1]: 'host' is listed twice")
    assertRecipeError(
      extending: "targets: {devices: [my/dev.yaml]}\n",
      "targets.devices[0]: device profile not found: \(RecipeText.root)/my/dev.yaml",
      kind: .fileNotFound)
  }

  // MARK: Contexts

  func testBadContextsAreNamedByContextAndField() {
    assertRecipeError(
      extending: "targets:\n  contexts:\n    busy: \"cpu=2\"\n",
      "t.yaml:8: targets.contexts.busy: bad context 'cpu=2': cpu: expected a CPU share in (0, 1], found '2'")
    assertRecipeError(
      extending: "targets:\n  contexts:\n    busy: \"cpu 0.5\"\n",
      "targets.contexts.busy: bad context 'cpu 0.5': expected field=value")
    assertRecipeError(
      extending: "targets:\n  contexts:\n    slow: {cpu: 0.5, frq: 0.8}\n",
      "t.yaml:8: targets.contexts.slow.frq: unknown key 'frq' (did you mean 'freq'?); allowed here: cpu, freq, mem, battery, thermal"
    )
    assertRecipeError(
      extending: "targets:\n  contexts:\n    hot:\n      cpu: 1\n      thermal: boiling\n",
      "t.yaml:10: targets.contexts.hot.thermal: bad context 'thermal=boiling': thermal: expected one of nominal, fair, serious, critical"
    )
    assertRecipeError(extending: "targets:\n  contexts: {}\n", "targets.contexts: list at least one context")
    assertRecipeError(
      extending: "targets:\n  contexts: [normal]\n",
      "t.yaml:7: targets.contexts: expected a mapping of context names")
  }

  // MARK: Ranges: constraints, widths, bits, search

  func testImpossibleConstraintsAreRejected() throws {
    assertRecipeError(
      extending: "constraints:\n  min-accuracy: 1.5\n",
      "t.yaml:7: constraints.min-accuracy: expected an accuracy in (0, 1]")
    assertRecipeError(extending: "constraints:\n  min-accuracy: 90\n", "found 90; write 0.9 for 90 %")
    assertRecipeError(
      extending: "constraints:\n  min-accuracy: 0\n",
      "constraints.min-accuracy: expected an accuracy in (0, 1]")
    assertRecipeError(
      extending: "constraints:\n  max-latency-ms: 0\n",
      "t.yaml:7: constraints.max-latency-ms: expected a number in (0, ∞), found 0")
    assertRecipeError(
      extending: "constraints:\n  max-latency-ms: -2\n",
      "constraints.max-latency-ms: expected a number in (0, ∞), found -2")
    assertRecipeError(
      extending: "constraints:\n  max-memory-mb: 0\n",
      "constraints.max-memory-mb: expected a number in (0, ∞)")
    assertRecipeError(
      extending: "constraints:\n  max-accuracy-drop: 1.2\n",
      "constraints.max-accuracy-drop: expected a number in [0, 1], found 1.2")
    let both = try RecipeText.parse(extending: "constraints: {min-accuracy: 0.8, max-accuracy-drop: 0.04}\n")
    XCTAssertEqual(both.constraints, Recipe.Constraints(minAccuracy: 0.8, maxAccuracyDrop: 0.04))
  }

  func testWidthsMustContainFullWidthAndStayInRange() {
    assertRecipeError(
      extending: "supernet:\n  widths: [0.75, 0.5]\n", "t.yaml:7: supernet.widths: widths must contain 1.0")
    assertRecipeError(
      extending: "supernet:\n  widths: [1.0, 1.5]\n",
      "t.yaml:7: supernet.widths[1]: expected a number in (0, 1], found 1.5")
    assertRecipeError(
      extending: "supernet:\n  widths: [1.0, 0]\n", "supernet.widths[1]: expected a number in (0, 1], found 0"
    )
    assertRecipeError(
      extending: "supernet:\n  widths: [1.0, 0.5, 0.5]\n", "supernet.widths[2]: width 0.5 is listed twice")
  }

  func testBitsMustBeSupportedAndIncludeFloat() {
    assertRecipeError(
      extending: "supernet:\n  bits: [32, 16]\n",
      "t.yaml:7: supernet.bits[1]: weight bits must be one of 32, 8, 4, found 16")
    assertRecipeError(
      extending: "supernet:\n  bits: [8, 4]\n", "t.yaml:7: supernet.bits: bits must contain 32")
    assertRecipeError(
      extending: "supernet:\n  bits: [32, 8, 8]\n", "supernet.bits[2]: 8 bits are listed twice")
  }

  func testExitsMustBeAmongNamedBlocks() {
    assertRecipeError(
      extending: "supernet:\n  blocks: [conv2d_1, conv2d_2]\n  exits: [conv2d_1, conv2d_3]\n",
      "t.yaml:8: supernet.exits[1]: 'conv2d_3' is not one of supernet.blocks (did you mean 'conv2d_1'?)")
    assertRecipeError(
      extending: "supernet:\n  exits: [main]\n",
      "supernet.exits[0]: 'main' (the model's own output) is always an exit")
    assertRecipeError(
      extending: "supernet:\n  blocks: []\n", "supernet.blocks: list at least one block, or use auto")
  }

  func testDepthAndBlockModesAreCheckedAndRead() throws {
    assertRecipeError(
      extending: "supernet:\n  depth: deep\n", "t.yaml:7: supernet.depth: expected fixed or elastic")
    assertRecipeError(extending: "supernet:\n  min-depth: -1\n", "t.yaml:7: supernet.min-depth: must be ≥ 0")
    assertRecipeError(
      extending: "supernet:\n  blocks: some\n", "supernet.blocks: expected auto, hidden or a list")
    let r = try RecipeText.parse(extending: "supernet:\n  blocks: hidden\n  depth: elastic\n  min-depth: 1\n")
    XCTAssertEqual(r.supernet.blocks, .hidden)
    XCTAssertTrue(r.supernet.elasticDepth)
    XCTAssertEqual(r.supernet.minDepth, 1)
    XCTAssertFalse(try RecipeText.parse(extending: "").supernet.elasticDepth)
    assertRecipeError(
      extending: "supernet:\n  resolutions: [32, 0]\n", "supernet.resolutions[1]: a resolution must be ≥ 1")
    assertRecipeError(extending: "supernet:\n  resolutions: [32, 32]\n", "resolution 32 is listed twice")
    XCTAssertEqual(
      try RecipeText.parse(extending: "supernet:\n  resolutions: [32, 24]\n").supernet.resolutions, [32, 24])
  }

  func testSearchSettingsAreRangeChecked() {
    assertRecipeError(
      extending: "search:\n  population: 3\n",
      "t.yaml:7: search.population: expected a population of at least 4")
    assertRecipeError(
      extending: "search:\n  workers: 0\n", "t.yaml:7: search.workers: expected an integer ≥ 1, found 0")
    assertRecipeError(
      extending: "search:\n  workers: 100000\n",
      "search.workers: expected at most \(ProcessInfo.processInfo.activeProcessorCount) (the cores of this machine)"
    )
    assertRecipeError(
      extending: "search:\n  generations: 0\n", "search.generations: expected an integer ≥ 1, found 0")
    assertRecipeError(
      extending: "search:\n  algorithm: nsga3\n",
      "search.algorithm: unknown value 'nsga3' (did you mean 'nsga2'?); expected one of: nsga2, random")
    assertRecipeError(
      extending: "search:\n  time-budget: ten minutes\n",
      "t.yaml:7: search.time-budget: expected a positive duration")
    assertRecipeError(
      extending: "search:\n  time-budget: 0s\n", "search.time-budget: expected a positive duration")
    assertRecipeError(
      extending: "search:\n  objectives: [latency, energy]\n",
      "t.yaml:7: search.objectives: objectives must include accuracy")
    assertRecipeError(
      extending: "search:\n  objectives: [accuracy]\n",
      "search.objectives: objectives need accuracy and at least one cost")
    assertRecipeError(
      extending: "search:\n  objectives: [accuracy, latncy]\n",
      "search.objectives[1]: unknown value 'latncy' (did you mean 'latency'?)")
  }

  func testTrainingAndOutputRangesAreChecked() {
    assertRecipeError(
      extending: "supernet:\n  training: {alpha: 1.5}\n",
      "supernet.training.alpha: expected a number in [0, 1], found 1.5")
    assertRecipeError(
      extending: "supernet:\n  training: {temperature: 0}\n",
      "supernet.training.temperature: expected a number in (0, 100]")
    assertRecipeError(
      extending: "supernet:\n  training: {seed: -1}\n",
      "supernet.training.seed: expected an integer ≥ 0, found -1")
    assertRecipeError(
      extending: "output: {variants: 0}\n", "t.yaml:6: output.variants: expected an integer ≥ 1, found 0")
    assertRecipeError(
      extending: "output: {directory: recipes/fmnist.yaml}\n", "output.directory: expected a directory, but")
    assertRecipeError(
      extending: "output: {directory: b, work-directory: b/}\n",
      "output.work-directory: must differ from output.directory")
    assertRecipeError(
      extending: "output: {formats: [keras, tflite]}\n",
      "output.formats[1]: unknown value 'tflite'; expected one of: keras, onnx")
    assertRecipeError(extending: "output: {formats: [onnx]}\n", "output.formats: must include keras")
    assertRecipeError(
      extending: "output: {finetune-slack: 0.05}\n",
      "t.yaml:6: output.finetune-slack: needs finetune-epochs > 0")
    assertRecipeError(
      extending: "output: {finetune-epochs: 2, finetune-slack: 1}\n",
      "output.finetune-slack: expected a number in [0, 1), found 1")
    assertRecipeError(
      extending: "output: {finetune-learning-rate: 0}\n",
      "output.finetune-learning-rate: expected a number in (0, 1], found 0")
    assertRecipeError(
      extending: "output: {formats: [keras, keras]}\n", "output.formats[1]: 'keras' is listed twice")
    assertRecipeError("name: a/b\nmodel: {file: x.h5}\n", "t.yaml:1: name: 'a/b' cannot name a directory")
    assertRecipeError(
      "name: t\ndataset: {source: fmnist}\nmodel:\n  architecture: recipes/models/fmnist_cnn.yaml\n  train: {optimizer: adamw}\n",
      "t.yaml:5: model.train.optimizer: unknown value 'adamw' (did you mean 'adam'?)")
  }
}
