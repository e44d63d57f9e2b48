import AdaCompress
import AdaNN
import AdaTensor
import AdaTrain
import TestSupport
import XCTest

/// Elastic depth and hidden widths (once-for-all's space for inverted-residual nets), checked
/// against properties that do not use the supernet's own code: a skipped unit must compute what
/// the source computes when that unit's branch is silenced (its last batch-norm outputs zeros).
final class ElasticDepthTests: XCTestCase {
  let source = InvertedResidualModels.mobileNetV2Like()

  func testFindsTheStageOfChainedResidualUnits() throws {
    let stages = try ResidualStage.find(in: source.graph)
    XCTAssertEqual(stages.count, 1)
    XCTAssertEqual(stages[0].units.map(\.add), ["u1_add", "u2_add"])
    XCTAssertEqual(stages[0].units.map(\.skip), ["u0_project_bn", "u1_add"])
    XCTAssertEqual(
      stages[0].units[1].nodes,
      [
        "u2_expand", "u2_expand_bn", "u2_expand_relu", "u2_dw", "u2_dw_bn", "u2_dw_relu", "u2_project",
        "u2_project_bn",
      ])
  }

  /// The residual test model's Add reads a node that another branch also reads after it
  /// (`relu1` feeds both the shortcut and conv2), which is fine; but an Add whose "branch"
  /// reaches the model input is no unit.
  func testAddsThatAreNoIdentityShortcutAreNotUnits() throws {
    XCTAssertEqual(try ResidualStage.find(in: TestModels.residual().graph).map(\.units.count), [1])
    XCTAssertTrue(try ResidualStage.find(in: TestModels.concatenated().graph).isEmpty)
  }

  func testSkippedUnitsComputeTheirShortcut() throws {
    let net = try Supernet(source: source, options: SupernetOptions(elasticDepth: true))
    XCTAssertEqual(net.largest.depths, [2])
    let x = SmallModels.inputs(3, [8, 8, 3])
    for (depth, silenced) in [(1, ["u2"]), (0, ["u1", "u2"])] {
      var config = net.largest
      config.depths = [depth]
      let model = try net.materialize(config).model(from: net.weights).model
      let expected = InvertedResidualModels.silencing(silenced, in: source)
      assertClose(
        SmallModels.predict(model, x)[0], SmallModels.predict(expected, x)[0], rtol: 1e-5, atol: 1e-6)
      XCTAssertNil(model.graph.node(named: "\(silenced.last!)_expand"))
      XCTAssertEqual(model.graph.nodes.count, source.graph.nodes.count - 9 * silenced.count)
    }
    // And it can fail: the full-depth model differs from the silenced one.
    let full = try net.materialize(net.largest).model(from: net.weights).model
    let silenced = InvertedResidualModels.silencing(["u2"], in: source)
    XCTAssertGreaterThan(
      maxAbsDifference(SmallModels.predict(full, x)[0], SmallModels.predict(silenced, x)[0]), 1e-4)
  }

  func testMinimumDepthBoundsTheChoicesAndTheSmallestConfiguration() throws {
    let net = try Supernet(source: source, options: SupernetOptions(elasticDepth: true, minDepth: 1))
    XCTAssertEqual(net.depthChoices(net.stages[0]), [2, 1])
    XCTAssertEqual(net.smallest.depths, [1])
    var config = net.largest
    config.depths = [0]
    XCTAssertThrowsError(try net.materialize(config))
  }

  func testHiddenWidthsLeaveTheResidualStreamWhole() throws {
    let net = try Supernet(source: source, options: SupernetOptions(hiddenOnly: true))
    XCTAssertEqual(net.blocks.map(\.name), ["stem", "u1_expand", "u2_expand", "head"])
    XCTAssertTrue(net.widthGroups.allSatisfy { $0.count == 1 })
    let all = try Supernet(source: source, options: SupernetOptions())
    XCTAssertEqual(all.widthGroups.first { $0.count > 1 }, ["u0_project", "u1_project", "u2_project"])
  }

  /// An expansion at half width keeps half the hidden channels: the depthwise and the project
  /// follow, the unit's output keeps the residual stream's 6 channels.
  func testHalfExpansionNarrowsOnlyTheHiddenLayers() throws {
    let net = try Supernet(source: source, options: SupernetOptions(widths: [1, 0.5], hiddenOnly: true))
    var config = net.largest
    config.blocks[1].width = 0.5
    let model = try net.materialize(config).model(from: net.weights).model
    XCTAssertEqual(model.parameters["u1_expand", "kernel"]?.shape, [1, 1, 6, 12])
    XCTAssertEqual(model.parameters["u1_dw", "kernel"]?.shape, [3, 3, 12, 1])
    XCTAssertEqual(model.parameters["u1_project", "kernel"]?.shape, [1, 1, 12, 6])
    XCTAssertEqual(try model.graph.inferShapes()["u1_add"], [4, 4, 6])
  }

  /// Blocks of a skipped unit do not run: repair gives them the largest configuration's
  /// choice, so two configurations that differ only there are equal.
  func testRepairResetsBlocksOfSkippedUnits() throws {
    let net = try Supernet(
      source: source, options: SupernetOptions(widths: [1, 0.5], hiddenOnly: true, elasticDepth: true))
    var config = net.largest
    config.depths = [1]
    config.blocks[2].width = 0.5  // u2_expand, skipped
    XCTAssertEqual(net.repair(config).blocks[2].width, 1)
    XCTAssertEqual(net.materializedBlocks(of: config), ["stem", "u1_expand", "head"])
    var g = SeededGenerator(seed: 7)
    for _ in 0..<20 {
      let c = net.random(using: &g)
      XCTAssertEqual(net.repair(c), c)
      XCTAssertNoThrow(try net.materialize(c).model(from: net.weights).model.validate())
    }
  }
}

/// Progressive shrinking: the sampled space opens from the largest configuration.
final class ProgressiveSamplingTests: XCTestCase {
  func testOpennessBoundsTheDrawsAndOneIsTheFullSpace() throws {
    let net = try Supernet(
      source: InvertedResidualModels.mobileNetV2Like(),
      options: SupernetOptions(widths: [1, 0.75, 0.5, 0.25], hiddenOnly: true, elasticDepth: true))
    var g = SeededGenerator(seed: 1)
    for _ in 0..<30 {
      let c = net.random(using: &g, openness: 0)
      XCTAssertEqual(c, net.largest)
    }
    for _ in 0..<30 {
      // 1 + ⌊0.34·3⌋ = 2 of 4 widths, 1 + ⌊0.34·2⌋ = 1 of 3 depths
      let c = net.random(using: &g, openness: 0.34)
      XCTAssertTrue(c.blocks.allSatisfy { $0.width >= 0.75 }, c.description)
      XCTAssertEqual(c.depths, [2])
    }
    XCTAssertEqual(net.smallest(openness: 0.34).blocks.map(\.width), [0.75, 0.75, 0.75, 0.75])
    XCTAssertEqual(net.smallest(openness: 1), net.smallest)
    var a = SeededGenerator(seed: 9)
    var b = SeededGenerator(seed: 9)
    XCTAssertEqual(net.random(using: &a), net.random(using: &b, openness: 1))
    let options = SupernetTrainingOptions(progressive: 0.5)
    XCTAssertEqual(options.openness(atStep: 0, of: 100), 0)
    XCTAssertEqual(options.openness(atStep: 25, of: 100), 0.5)
    XCTAssertEqual(options.openness(atStep: 60, of: 100), 1)
    XCTAssertEqual(SupernetTrainingOptions().openness(atStep: 0, of: 100), 1)
  }
}

/// Elastic resolution: the same weights on smaller inputs.
final class ElasticResolutionTests: XCTestCase {
  func testConfigurationsRunTheSameWeightsAtTheirResolution() throws {
    let source = InvertedResidualModels.mobileNetV2Like()
    let net = try Supernet(source: source, options: SupernetOptions(resolutions: [4, 8, 6]))
    XCTAssertEqual(net.resolutions, [8, 6, 4])
    XCTAssertEqual(net.largest.resolution, 8)
    XCTAssertEqual(net.smallest.resolution, 4)
    var config = net.largest
    config.resolution = 6
    let model = try net.materialize(config).model(from: net.weights).model
    XCTAssertEqual(model.graph.inputShape, [6, 6, 3])
    XCTAssertEqual(model.parameters.tensors, source.parameters.tensors)
    XCTAssertEqual(SmallModels.predict(model, SmallModels.inputs(2, [6, 6, 3]))[0].shape, [2, 5])
    XCTAssertTrue(net.summary(config).contains("6×6 input"), net.summary(config))
    config.resolution = 5
    XCTAssertThrowsError(try net.materialize(config))
    XCTAssertEqual(net.repair(config).resolution, 8)
  }

  /// A configuration on smaller images is taught by the source at its own size, reading the
  /// source-size examples; one at the source's size reads its own batch.
  func testTheFineTuneTeacherIsTheSourceAtItsOwnResolution() throws {
    let source = InvertedResidualModels.mobileNetV2Like()
    let net = try Supernet(source: source, options: SupernetOptions(resolutions: [8, 4]))
    let train = LabeledDataset(
      name: "t", images: SmallModels.inputs(6, [8, 8, 3]), labels: [0, 1, 2, 3, 4, 0], classCount: 5)
    let small = net.distillation(for: net.smallest, train: train, alpha: 0.5, temperature: 2)
    XCTAssertEqual(small.teacher.graph.inputShape, [8, 8, 3])
    XCTAssertEqual(small.teacherInputs?.exampleShape, [8, 8, 3])
    XCTAssertEqual(small.teacherInputs?.count, 6)
    XCTAssertNoThrow(
      try small.checkTeacherInputs(pairedWith: net.inputs(train, for: net.smallest), augmented: false))
    let large = net.distillation(for: net.largest, train: train, alpha: 0.5, temperature: 2)
    XCTAssertEqual(large.teacher.graph.inputShape, [8, 8, 3])
    XCTAssertNil(large.teacherInputs)
    XCTAssertEqual([small.weights.alpha, small.weights.temperature], [0.5, 2])
  }

  func testModelsTiedToOneSizeAndMissingSourceSizeAreRefused() {
    for (model, resolutions, expected) in [
      (try! TestModels.fmnistCNN(), [28, 14], "does not run at 14×14"),
      (InvertedResidualModels.mobileNetV2Like(), [6, 4], "must include the model's own, 8"),
    ] {
      XCTAssertThrowsError(try Supernet(source: model, options: SupernetOptions(resolutions: resolutions))) {
        let e = $0 as! AdaError
        XCTAssertEqual(e.path, "supernet.resolutions")
        XCTAssertTrue(e.message.contains(expected), e.message)
      }
    }
  }
}

/// Largest |a − b| over all elements.
private func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
  zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
}
