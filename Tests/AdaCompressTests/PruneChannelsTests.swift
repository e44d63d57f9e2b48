import AdaCompress
import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class PruneChannelsTests: XCTestCase {
  typealias M = TestModels

  func spec(_ model: Model, _ name: String) -> LayerSpec { model.graph.node(named: name)!.spec }

  func filters(_ model: Model, _ name: String) -> Int {
    switch spec(model, name) {
    case .conv2D(let s): s.filters
    case .dense(let s): s.units
    default: -1
    }
  }

  func testZeroRatioIsTheIdentity() throws {
    for model in [M.residual(), M.concatenated(), M.flattenChain(), try M.mobilenetTiny()] {
      let result = try PruneChannels(ratio: 0).apply(to: model, selecting: .all)
      XCTAssertEqual(result.model.graph, model.graph)
      XCTAssertEqual(result.model.parameters, model.parameters)
      let x = M.input(for: model)
      assertClose(M.predict(result.model, x)[0], M.predict(model, x)[0], rtol: 1e-6)
      XCTAssertEqual(result.report.before, result.report.after)
      XCTAssertTrue(result.report.layers.isEmpty)
    }
  }

  func testPruningAResidualModelPrunesTheAddedBranchesTogether() throws {
    let model = M.residual()
    let result = try PruneChannels(ratio: 0.5).apply(to: model, selecting: .all)
    let pruned = result.model
    try pruned.validate()
    // conv1 and conv3 meet at `add`: one shared keep-set of 4 of their 8 channels.
    XCTAssertEqual(filters(pruned, "conv1"), 4)
    XCTAssertEqual(filters(pruned, "conv3"), 4)
    XCTAssertEqual(filters(pruned, "conv2"), 3)
    XCTAssertEqual(filters(pruned, "conv4"), 5)
    XCTAssertEqual(filters(pruned, "out"), 5, "the model output keeps its width")
    XCTAssertEqual(pruned.parameters["dw", "kernel"]!.shape, [3, 3, 4, 1])
    XCTAssertEqual(pruned.parameters["bn1", "gamma"]!.shape, [4])
    // The same channels survive in both branches: their biases are slices at the same indices.
    let kept1 = keptIndices(original: model.parameters["conv1", "bias"]!, pruned.parameters["conv1", "bias"]!)
    let kept3 = keptIndices(original: model.parameters["conv3", "bias"]!, pruned.parameters["conv3", "bias"]!)
    XCTAssertEqual(kept1, kept3)
    XCTAssertLessThan(M.params(pruned), M.params(model))
    let y = M.predict(pruned, M.input(for: model))[0]
    XCTAssertEqual(y.shape, [3, 5])
    XCTAssertFalse(y.hasNonFinite)
  }

  func testPruningAConcatenateModelMapsChannelRangesThroughTheConcatenation() throws {
    let model = M.concatenated()
    let pruned = try PruneChannels(ratio: 0.5).apply(to: model, selecting: .all).model
    try pruned.validate()
    // convA ‖ convB is added to convD: convD loses the channels convA and convB lose, in place.
    let a = filters(pruned, "convA")
    let b = filters(pruned, "convB")
    XCTAssertEqual(a + b, 5)
    XCTAssertEqual(filters(pruned, "convD"), 5)
    let keptA = keptIndices(original: model.parameters["convA", "bias"]!, pruned.parameters["convA", "bias"]!)
    let keptB = keptIndices(original: model.parameters["convB", "bias"]!, pruned.parameters["convB", "bias"]!)
    let keptD = keptIndices(original: model.parameters["convD", "bias"]!, pruned.parameters["convD", "bias"]!)
    XCTAssertEqual(keptD, keptA + keptB.map { $0 + 6 })
    XCTAssertEqual(filters(pruned, "conv_c"), 4)
    // conv_c (8 → 4 channels) feeds pool → flatten (3·3·C) → dense1: rows shrink with it.
    XCTAssertEqual(pruned.parameters["dense1", "kernel"]!.shape, [3 * 3 * 4, 6])
    XCTAssertLessThan(M.params(pruned), M.params(model))
    XCTAssertEqual(M.predict(pruned, M.input(for: model))[0].shape, [3, 3])
  }

  func testPruningBeforeFlattenEqualsZeroingThoseFiltersInTheOriginal() throws {
    // Channels 1 and 4 get tiny filters, so L1 importance removes exactly them at ratio 1/3.
    var model = M.flattenChain()
    var kernel = model.parameters["conv", "kernel"]!  // [3, 3, 2, 6]
    for i in 0..<kernel.count where [1, 4].contains(i % 6) { kernel.scalars[i] *= 0.01 }
    model.parameters["conv", "kernel"] = kernel
    let pruned = try PruneChannels(ratio: 1.0 / 3).apply(to: model, selecting: .named(["conv"])).model
    XCTAssertEqual(filters(pruned, "conv"), 4)
    XCTAssertEqual(pruned.parameters["dense", "kernel"]!.shape, [4 * 5 * 4, 7])
    // Reference: the original with filters 1 and 4 (and their biases) zeroed: relu(0) = 0, so the
    // dense rows h·W·C + w·C + c of those channels contribute nothing.
    var zeroed = model
    var k = kernel
    for i in 0..<k.count where [1, 4].contains(i % 6) { k.scalars[i] = 0 }
    var bias = model.parameters["conv", "bias"]!
    bias.scalars[1] = 0
    bias.scalars[4] = 0
    zeroed.parameters["conv", "kernel"] = k
    zeroed.parameters["conv", "bias"] = bias
    let x = M.input(for: model, batch: 4)
    assertClose(M.predict(pruned, x)[0], M.predict(zeroed, x)[0], rtol: 1e-5)
  }

  func testPruningThroughADepthwiseMultiplierEqualsSilencingTheChannels() throws {
    // conv (4 ch, relu) → depthwise ×2 → conv → out. Channels 0 and 2 of `conv` get tiny filters;
    // removing them removes depthwise outputs 0, 1, 4, 5 (c·m + j).
    var model = M.randomModel(
      Graph(
        name: "dw",
        nodes: [
          M.node("in", .input(InputSpec(shape: [6, 6, 3]))),
          M.node("conv", M.conv(4, 3, activation: .relu), "in"),
          M.node(
            "dw",
            .depthwiseConv2D(DepthwiseConv2DSpec(kernel: .square(3), padding: .same, depthMultiplier: 2)),
            "conv"),
          M.node("mix", M.conv(5, 1), "dw"),
        ], outputs: ["mix"]),
      seed: 8)
    var kernel = model.parameters["conv", "kernel"]!
    for i in 0..<kernel.count where [0, 2].contains(i % 4) { kernel.scalars[i] *= 0.01 }
    model.parameters["conv", "kernel"] = kernel
    let pruned = try PruneChannels(ratio: 0.5).apply(to: model, selecting: .named(["conv"])).model
    XCTAssertEqual(pruned.parameters["dw", "kernel"]!.shape, [3, 3, 2, 2])
    XCTAssertEqual(pruned.parameters["mix", "kernel"]!.shape, [1, 1, 4, 5])
    var silenced = model
    for i in 0..<kernel.count where [0, 2].contains(i % 4) { kernel.scalars[i] = 0 }
    silenced.parameters["conv", "kernel"] = kernel
    var convBias = model.parameters["conv", "bias"]!
    convBias.scalars[0] = 0
    convBias.scalars[2] = 0
    silenced.parameters["conv", "bias"] = convBias
    var dwBias = model.parameters["dw", "bias"]!
    for c in [0, 1, 4, 5] { dwBias.scalars[c] = 0 }
    silenced.parameters["dw", "bias"] = dwBias
    let x = M.input(for: model)
    assertClose(M.predict(pruned, x)[0], M.predict(silenced, x)[0], rtol: 1e-5)
  }

  func testBatchNormGammaImportanceKeepsTheLargestGammas() throws {
    var model = M.residual()
    model.parameters["bn2", "gamma"] = Tensor(shape: [6], scalars: [0.9, -0.05, 0.3, -2, 0.01, 0.5])
    let pruned = try PruneChannels(ratio: 0.5, importance: .batchNormGamma)
      .apply(to: model, selecting: .named(["conv2"])).model
    XCTAssertEqual(pruned.parameters["bn2", "gamma"]!.scalars, [0.9, -2, 0.5])
    XCTAssertEqual(filters(pruned, "conv1"), 8, "only conv2 was selected")
  }

  func testChannelsFeedingAModelOutputAreNeverPruned() throws {
    let model = M.flattenChain()
    let op = PruneChannels(ratio: 0.5)
    XCTAssertFalse(op.isEligible(model.graph.node(named: "out")!, in: model))
    XCTAssertThrowsError(try op.apply(to: model, selecting: .named(["out"]))) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.path, "out")
      XCTAssertTrue(e.message.contains("model output"), e.message)
    }
    let pruned = try op.apply(to: model, selecting: .all).model
    XCTAssertEqual(filters(pruned, "out"), 3)
    XCTAssertEqual(filters(pruned, "dense"), 3, "round(0.5 · 7) = 4 of 7 units removed")
  }

  func testPruningMobileNetTinyKeepsItValidSmallerAndLeavesTheInputModelUnchanged() throws {
    let model = try M.mobilenetTiny()
    let copy = model
    let result = try PruneChannels(ratio: 0.5).apply(to: model, selecting: .all)
    try result.model.validate()
    XCTAssertEqual(model.graph, copy.graph)
    XCTAssertEqual(model.parameters, copy.parameters)
    // Conv1 and block_1_project meet at block_1_add.
    XCTAssertEqual(filters(result.model, "Conv1"), filters(result.model, "block_1_project"))
    XCTAssertEqual(filters(result.model, "predictions"), 5)
    XCTAssertLessThan(result.report.after.params, result.report.before.params)
    XCTAssertLessThan(result.report.after.macs, result.report.before.macs)
    XCTAssertEqual(result.report.after.params, M.params(result.model))
    let y = M.predict(result.model, M.input(for: model))[0]
    XCTAssertEqual(y.shape, [3, 5])
    XCTAssertFalse(y.hasNonFinite)
  }

  func testReportListsThePrunedLayerAndItsConsumersWithCostsThatAddUp() throws {
    let model = M.flattenChain()
    let result = try PruneChannels(ratio: 0.5).apply(to: model, selecting: .named(["conv"]))
    XCTAssertEqual(result.report.layers.map(\.layer), ["conv", "dense"])
    XCTAssertEqual(result.report.operations, ["prune-channels:0.5"])
    let conv = result.report.layers[0]
    XCTAssertEqual(conv.before.params, 3 * 3 * 2 * 6 + 6)
    XCTAssertEqual(conv.after.params, 3 * 3 * 2 * 3 + 3)
    let saved = result.report.layers.reduce(0) { $0 + $1.before.params - $1.after.params }
    XCTAssertEqual(result.report.before.params - result.report.after.params, saved)
  }

  func testRatioOutsideZeroToOneIsRejected() {
    XCTAssertThrowsError(try PruneChannels(ratio: 1).apply(to: M.residual(), selecting: .all)) {
      XCTAssertEqual(($0 as! AdaError).path, "prune-channels.ratio")
    }
  }

  /// Positions in `original` of each value of `pruned` (bias values are distinct random floats).
  func keptIndices(original: Tensor, _ pruned: Tensor) -> [Int] {
    pruned.scalars.map { v in original.scalars.firstIndex(of: v)! }
  }
}

final class PruneChannelsFixtureTests: XCTestCase {
  typealias M = TestModels

  func testPruningTheFashionMNISTCNNEqualsSilencingThePrunedChannels() throws {
    // conv2 → bn2 → relu2 → pool2 → flatten → fc1: pruning conv2's channels must drop exactly
    // the fc1 rows h·W·C + w·C + c of those channels. Reference: the original with bn2's γ and β
    // zeroed on the pruned channels, so they are 0 after relu/pool and contribute nothing.
    let model = try M.fmnistCNN()
    let result = try PruneChannels(ratio: 0.5).apply(to: model, selecting: .named(["conv2"]))
    let pruned = result.model
    try pruned.validate()
    let means = model.parameters["bn2", "movingMean"]!.scalars
    let kept = pruned.parameters["bn2", "movingMean"]!.scalars.map { means.firstIndex(of: $0)! }
    XCTAssertEqual(kept.count, means.count - Int((Double(means.count) / 2).rounded()))
    let pooled = try model.graph.inferShapes()["pool2"]!
    XCTAssertEqual(
      pruned.parameters["fc1", "kernel"]!.shape[0], pooled[0] * pooled[1] * kept.count)
    var silenced = model
    for w in ["gamma", "beta"] {
      var t = model.parameters["bn2", w]!
      for c in 0..<t.count where !kept.contains(c) { t.scalars[c] = 0 }
      silenced.parameters["bn2", w] = t
    }
    let x = M.input(for: model, batch: 2)
    assertClose(M.predict(pruned, x)[0], M.predict(silenced, x)[0], rtol: 1e-5)
    XCTAssertEqual(result.report.layers.map(\.layer), ["conv2", "bn2", "fc1"])
  }

  func testPruningEveryFashionMNISTLayerKeepsTheModelValid() throws {
    let model = try M.fmnistCNN()
    let result = try PruneChannels(ratio: 0.5).apply(to: model, selecting: .all)
    try result.model.validate()
    XCTAssertLessThan(result.report.after.params, result.report.before.params)
    let y = M.predict(result.model, M.input(for: model))[0]
    XCTAssertEqual(y.shape, [3, 10])
    XCTAssertFalse(y.hasNonFinite)
  }
}
