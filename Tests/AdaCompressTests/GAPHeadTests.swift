import AdaCompress
import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class GAPHeadTests: XCTestCase {
  func testFlattenAndDenseStackBecomeGlobalPoolingAndOneDense() throws {
    let model = SmallModels.convNet()
    let result = try GAPHead().apply(to: model, selecting: .all)
    let graph = result.model.graph
    let shapes = try result.model.validate()
    XCTAssertEqual(
      graph.nodes.map(\.name), ["input", "conv_a", "bn", "dw", "conv_b", "pool", "flatten_gap", "fc2"])
    XCTAssertEqual(graph.node(named: "flatten_gap")?.spec, .globalPool2D(GlobalPool2DSpec(kind: .average)))
    XCTAssertEqual(graph.node(named: "fc2")?.spec, .dense(DenseSpec(units: 10, activation: .softmax)))
    XCTAssertEqual(graph.outputs, ["fc2"])
    XCTAssertEqual(shapes["fc2"], [10])
    XCTAssertEqual(result.model.parameters["fc2", "kernel"]?.shape, [32, 10])
    XCTAssertNil(result.model.parameters["fc1", "kernel"])
    let head = result.report.layers.filter { ["flatten", "fc1", "dropout", "fc2"].contains($0.layer) }
    XCTAssertEqual(head.map(\.layer), ["flatten", "fc1", "dropout", "fc2"])
    XCTAssertEqual(
      result.report.before.params - result.report.after.params,
      (4 * 4 * 32 * 24 + 24 + 24 * 10 + 10) - (32 * 10 + 10))
    let probabilities = SmallModels.predict(result.model, SmallModels.inputs(3, [8, 8, 4]))[0]
    for row in 0..<3 {
      XCTAssertEqual(probabilities.scalars[row * 10..<row * 10 + 10].reduce(0, +), 1, accuracy: 1e-5)
    }
  }

  /// One Dense on a spatially constant feature map: summing its rows over positions is exact.
  func testSingleDenseHeadIsExactOnSpatiallyConstantFeatures() throws {
    let model = SmallModels.head(feature: [4, 3, 5], denses: [DenseSpec(units: 6, activation: .softmax)])
    let result = try GAPHead().apply(to: model, selecting: .named(["flatten"]))
    XCTAssertEqual(result.model.graph.nodes.map(\.spec.kindName), ["input", "global-avg-pool2d", "dense"])
    let x = constantFeatures(n: 3, [4, 3, 5])
    assertClose(SmallModels.predict(result.model, x)[0], SmallModels.predict(model, x)[0], rtol: 1e-5)
  }

  /// A linear stack (with dropout, identity at inference) composes exactly too.
  func testLinearDenseStackComposesExactlyOnSpatiallyConstantFeatures() throws {
    let model = SmallModels.head(
      feature: [3, 3, 4],
      denses: [DenseSpec(units: 40), DenseSpec(units: 7, useBias: false), DenseSpec(units: 3)],
      dropout: true)
    let result = try GAPHead().apply(to: model, selecting: .all)
    XCTAssertEqual(result.model.graph.nodes.map(\.name), ["input", "flatten_gap", "d3"])
    let x = constantFeatures(n: 2, [3, 3, 4])
    assertClose(SmallModels.predict(result.model, x)[0], SmallModels.predict(model, x)[0], rtol: 1e-5)
  }

  /// `gap-head:hidden`: only the first Dense changes (rows summed), exact on constant maps
  /// even through the relu, and the rest of the head is untouched.
  func testKeepingTheHiddenDenseIsExactOnSpatiallyConstantFeatures() throws {
    let model = SmallModels.head(
      feature: [3, 3, 4],
      denses: [DenseSpec(units: 16, activation: .relu), DenseSpec(units: 3, activation: .softmax)],
      dropout: true)
    let op = try OperatorParser.parse("gap-head:hidden")
    XCTAssertEqual(op.description, "gap-head:hidden")
    let result = try op.apply(to: model, selecting: .all)
    XCTAssertEqual(
      result.model.graph.nodes.map(\.name),
      model.graph.nodes.map { $0.name == "flatten" ? "flatten_gap" : $0.name })
    XCTAssertEqual(result.model.parameters["d1", "kernel"]?.shape, [4, 16])
    XCTAssertEqual(result.model.parameters["d2", "kernel"], model.parameters["d2", "kernel"])
    let x = constantFeatures(n: 2, [3, 3, 4])
    assertClose(SmallModels.predict(result.model, x)[0], SmallModels.predict(model, x)[0], rtol: 1e-5)
    let oneDense = SmallModels.head(feature: [2, 2, 8], denses: [DenseSpec(units: 4)])
    XCTAssertFalse(GAPHead(keepHidden: true).isEligible(oneDense.graph.node(named: "flatten")!, in: oneDense))
  }

  func testLastDenseWithoutBiasGainsOneWhenTheStackHadBiases() throws {
    let model = SmallModels.head(
      feature: [2, 2, 8],
      denses: [DenseSpec(units: 16, activation: .relu), DenseSpec(units: 4, useBias: false)])
    let result = try GAPHead().apply(to: model, selecting: .all)
    XCTAssertEqual(result.model.graph.node(named: "d2")?.spec, .dense(DenseSpec(units: 4, useBias: true)))
    XCTAssertEqual(result.model.parameters["d2", "bias"]?.shape, [4])
  }

  func testHeadsThatCannotBeFoldedAreNotEligible() throws {
    // Not smaller: a 1×1 feature map with a single Dense has as many weights either way.
    let tiny = SmallModels.head(feature: [1, 1, 8], denses: [DenseSpec(units: 4)])
    XCTAssertEqual(try GAPHead().selectedNodes(in: tiny, .all), [])
    XCTAssertThrowsError(try GAPHead().apply(to: tiny, selecting: .named(["flatten"]))) { error in
      XCTAssertTrue((error as? AdaError)?.message.contains("not fewer") ?? false, "\(error)")
    }
    // A batch-norm in the head.
    var withBN = SmallModels.convNet()
    withBN.graph.nodes.insert(Node(name: "hbn", spec: .batchNorm(BatchNormSpec()), inputs: ["fc1"]), at: 8)
    withBN.graph.nodes[9].inputs = ["hbn"]
    for k in ["gamma", "beta", "movingMean"] { withBN.parameters["hbn", k] = Tensor(shape: [24]) }
    withBN.parameters["hbn", "movingVariance"] = Tensor(shape: [24], repeating: 1)
    try withBN.validate()
    XCTAssertThrowsError(try GAPHead().apply(to: withBN, selecting: .named(["flatten"]))) { error in
      XCTAssertTrue((error as? AdaError)?.message.contains("hbn") ?? false, "\(error)")
    }
    // Only the Flatten can be selected.
    XCTAssertThrowsError(try GAPHead().apply(to: SmallModels.convNet(), selecting: .named(["fc1"])))
  }

  /// `[n] + shape`, each example constant over H and W (a different value per channel and example).
  func constantFeatures(n: Int, _ shape: [Int]) -> Tensor {
    var g = SeededGenerator(seed: 11)
    let c = shape[2]
    let values = Tensor.uniform([n, c], lo: -1, hi: 1, using: &g)
    var x = Tensor(shape: [n] + shape)
    let perExample = shape.elementCount
    for i in 0..<x.count { x.scalars[i] = values.scalars[(i / perExample) * c + i % c] }
    return x
  }
}
