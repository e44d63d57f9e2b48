import AdaCompress
import AdaNN
import AdaTensor
import AdaTrain
import TestSupport
import XCTest

/// The supernet's configurations are checked against the standalone operators they stand for:
/// a configuration must compute what the operator's own rewrite of the source computes.
final class SupernetTests: XCTestCase {
  func testLargestConfigurationIsTheSourceModel() throws {
    let source = SmallModels.convNet()
    let net = try Supernet(
      source: source, options: SupernetOptions(branches: ["low-rank:0.5"], bits: [32, 8]))
    let sub = try net.materialize(net.largest)
    let x = SmallModels.inputs(3, [8, 8, 4])
    let model = try sub.model(from: net.weights).model
    assertClose(SmallModels.predict(model, x)[0], SmallModels.predict(source, x)[0], rtol: 1e-6)
    XCTAssertEqual(model.graph.nodes.map(\.name), source.graph.nodes.map(\.name))
  }

  func testBlocksExcludeTheClassifierAndFollowTheirPerChannelLayers() throws {
    let net = try Supernet(source: SmallModels.convNet(), options: SupernetOptions())
    XCTAssertEqual(net.blocks.map(\.name), ["conv_a", "conv_b", "fc1"])
    XCTAssertEqual(net.blocks.map(\.end), ["bn", "pool", "dropout"])
  }

  /// Width 0.5 on one block keeps its 50% highest-L1 channels: exactly `prune-channels:0.5`.
  func testHalfWidthMatchesPruneChannels() throws {
    let source = try TestModels.fmnistCNN()
    let net = try Supernet(source: source, options: SupernetOptions())
    var config = net.largest
    config.blocks[1].width = 0.5  // conv2
    let model = try net.materialize(config).model(from: net.weights).model
    let pruned = try PruneChannels(ratio: 0.5).apply(to: source, selecting: .named(["conv2"])).model
    XCTAssertEqual(model.parameters["conv2", "kernel"]?.shape, [3, 3, 32, 32])
    XCTAssertEqual(model.parameters["fc1", "kernel"]?.shape, [7 * 7 * 32, 64])
    let x = SmallModels.inputs(4, [28, 28, 1])
    assertClose(SmallModels.predict(model, x)[0], SmallModels.predict(pruned, x)[0], rtol: 1e-5, atol: 1e-6)
  }

  /// Channels are ranked by the L1 norm of the source kernel (computed here independently), so
  /// each width keeps the most important ones and narrower widths are subsets of wider ones.
  func testWidthsKeepTheHighestL1ChannelsAndAreNested() throws {
    let source = try TestModels.fmnistCNN()
    let net = try Supernet(source: source, options: SupernetOptions())
    let kernel = source.parameters["conv1", "kernel"]!  // [3, 3, 1, 32]
    var l1 = [Float](repeating: 0, count: 32)
    for (i, w) in kernel.scalars.enumerated() { l1[i % 32] += abs(w) }
    let order = net.blocks[0].channelOrder
    XCTAssertEqual(Set(order), Set(0..<32))
    for (a, b) in zip(order, order.dropFirst()) { XCTAssertGreaterThanOrEqual(l1[a], l1[b] * (1 - 1e-6)) }
    let kept = [1.0, 0.75, 0.5, 0.25].map { Set(order.prefix(net.blocks[0].keptChannels($0))) }
    for (wide, narrow) in zip(kept, kept.dropFirst()) { XCTAssertTrue(narrow.isSubset(of: wide)) }
    XCTAssertEqual(kept.map(\.count), [32, 24, 16, 8])
  }

  func testBranchComputesWhatTheOperatorComputes() throws {
    let source = SmallModels.convNet()
    for branch in ["low-rank:0.5", "depthwise-separable", "depthwise-separable:2", "fire:0.5"] {
      let net = try Supernet(source: source, options: SupernetOptions(branches: [branch]))
      var config = net.largest
      config.blocks[1].branch = branch  // conv_b
      let model = try net.materialize(config).model(from: net.weights).model
      let op = try OperatorParser.parse(branch).apply(to: source, selecting: .named(["conv_b"])).model
      let x = SmallModels.inputs(3, [8, 8, 4])
      assertClose(
        SmallModels.predict(model, x)[0], SmallModels.predict(op, x)[0], rtol: 1e-5, atol: 1e-6, branch)
    }
  }

  /// A branch at reduced width, behind a narrowed block, still composes (shapes line up).
  func testBranchesComposeWithWidths() throws {
    let source = SmallModels.convNet()
    let net = try Supernet(
      source: source,
      options: SupernetOptions(
        branches: ["low-rank:0.5", "depthwise-separable", "depthwise-separable:2"], bits: [32, 4]))
    var g = SeededGenerator(seed: 9)
    for _ in 0..<20 {
      let config = net.random(using: &g)
      let (model, quantized) = try net.materialize(config).model(from: net.weights)
      try model.validate()
      XCTAssertEqual(SmallModels.predict(model, SmallModels.inputs(2, [8, 8, 4]))[0].shape, [2, 10])
      for (key, q) in quantized { XCTAssertEqual(model.parameters.tensors[key], q.dequantized(), key) }
    }
  }

  func testExitConfigurationIsTheEarlyExitHeadAlone() throws {
    let source = try TestModels.fmnistCNN()
    let net = try Supernet(source: source, options: SupernetOptions(exits: nil))
    XCTAssertEqual(net.exits, ["conv1"])
    var config = net.largest
    config.exit = "conv1"
    let model = try net.materialize(config).model(from: net.weights).model
    XCTAssertFalse(model.graph.nodes.contains { $0.name == "conv2" }, "layers after the exit are dropped")
    let exits = try EarlyExit(after: ["pool1"]).apply(to: source, selecting: .all).model
    let x = SmallModels.inputs(3, [28, 28, 1])
    assertClose(SmallModels.predict(model, x)[0], SmallModels.predict(exits, x)[1], rtol: 1e-6)
  }

  func testCoupledBlocksShareOneWidth() throws {
    let net = try Supernet(source: TestModels.residual(), options: SupernetOptions())
    XCTAssertTrue(net.widthGroups.contains { $0.count > 1 }, "\(net.widthGroups)")
    var g = SeededGenerator(seed: 4)
    for _ in 0..<10 {
      let config = net.random(using: &g)
      for group in net.widthGroups {
        XCTAssertEqual(Set(group.map { config[block: $0]!.width }).count, 1)
      }
      try net.materialize(config).model(from: net.weights).model.validate()
    }
  }

  func testInvalidConfigurationsAreRejectedNamingTheBlock() throws {
    let net = try Supernet(source: SmallModels.convNet(), options: SupernetOptions())
    var config = net.largest
    config.blocks[0].width = 0.3
    XCTAssertThrowsError(try net.materialize(config)) { error in
      XCTAssertEqual((error as? AdaError)?.path, "config.conv_a")
    }
    config = net.largest
    config.exit = "fc1"
    XCTAssertThrowsError(try net.materialize(config))
    XCTAssertThrowsError(
      try Supernet(source: SmallModels.convNet(), options: SupernetOptions(branches: ["quantize:8"])))
    XCTAssertThrowsError(
      try Supernet(source: SmallModels.convNet(), options: SupernetOptions(blocks: ["nope"])))
  }

  /// Gradients scattered into the store match finite differences of the subnet's loss taken
  /// through the store, for elements the subnet reads; elements it does not read get zero.
  func testScatteredGradientsMatchFiniteDifferences() throws {
    let net = try Supernet(
      source: SmallModels.convNet(seed: 5), options: SupernetOptions(branches: ["low-rank:0.5"]))
    var config = net.largest
    config.blocks[0].width = 0.5
    config.blocks[1].branch = "low-rank:0.5"
    config.blocks[2].width = 0.75
    let sub = try net.materialize(config)
    let graph = sub.graph.splittingFinalSoftmax().graph
    let executor = try Executor(graph: graph)
    let x = SmallModels.inputs(2, [8, 8, 4], seed: 8)
    let labels: [Int32] = [3, 7]
    func loss(_ store: Parameters) -> Float {
      let y = executor.predict(x, parameters: sub.parameters(from: store))[0]
      return SoftmaxCrossEntropy().loss(logits: y, labels: labels)
    }
    var params = sub.parameters(from: net.weights)
    var context = ForwardContext(training: false, needsBackward: true)
    let trace = executor.forward(x, parameters: &params, context: &context)
    let (_, dLogits) = SoftmaxCrossEntropy().evaluate(logits: trace.outputs[0], labels: labels)
    var grads = Parameters()
    executor.backward(trace, outputGradients: [dLogits], parameters: params, gradients: &grads)
    var store = net.weights.zerosLike()
    sub.accumulate(grads, into: &store)

    let order = net.blocks[0].channelOrder
    let keptOut = order[0]
    let droppedOut = order.last!
    let probes: [(String, Int, Bool)] =
      [
        ("conv_a/kernel", keptOut, true), ("conv_a/kernel", droppedOut, false),
        ("fc1/kernel", 5 * 24 + net.blocks[2].channelOrder[0], true),
      ] + (0..<8).map { ("conv_b@low-rank:0.5#conv_b/kernel", $0 * 7, true) }
    var nonzero = 0
    for (key, index, read) in probes {
      let analytic = store.tensors[key]!.scalars[index]
      if !read {
        XCTAssertEqual(analytic, 0, "\(key)[\(index)] is not read by the subnet")
        continue
      }
      let h: Float = 1e-2
      var plus = net.weights
      plus.tensors[key]!.scalars[index] += h
      var minus = net.weights
      minus.tensors[key]!.scalars[index] -= h
      let numeric = (loss(plus) - loss(minus)) / (2 * h)
      XCTAssertEqual(analytic, numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "\(key)[\(index)]")
      if abs(analytic) > 1e-4 { nonzero += 1 }
    }
    XCTAssertGreaterThan(nonzero, 6, "most probed elements should receive a gradient")
  }
}
