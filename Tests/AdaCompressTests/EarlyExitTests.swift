import AdaCompress
import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class EarlyExitTests: XCTestCase {
  func testExitAfterABlockIsAnExtraOutputAndTheMainOutputIsUnchanged() throws {
    let model = try SmallModels.mobilenetTiny()
    let result = try EarlyExit(after: ["block_1"]).apply(to: model, selecting: .all)
    let shapes = try result.model.validate()
    XCTAssertEqual(result.model.graph.outputs, ["predictions", "block_1_add_exit"])
    XCTAssertEqual(result.model.graph.node(named: "block_1_add_exit_gap")?.inputs, ["block_1_add"])
    XCTAssertEqual(shapes["block_1_add_exit"], [5])
    XCTAssertEqual(
      result.model.graph.node(named: "block_1_add_exit")?.spec,
      .dense(DenseSpec(units: 5, activation: .softmax)))
    let x = SmallModels.inputs(4, [16, 16, 3])
    let before = SmallModels.predict(model, x)
    let after = SmallModels.predict(result.model, x)
    XCTAssertEqual(after.count, 2)
    XCTAssertEqual(after[0], before[0], "the main output must be bit-identical")
    for row in 0..<4 {
      XCTAssertEqual(after[1].scalars[row * 5..<row * 5 + 5].reduce(0, +), 1, accuracy: 1e-5)
    }
    let added = result.report.layers.filter { $0.before == .zero }.map(\.layer)
    XCTAssertEqual(added, ["block_1_add_exit_gap", "block_1_add_exit"])
    XCTAssertEqual(result.report.after.params - result.report.before.params, 4 * 5 + 5)
  }

  func testExitsFollowTheOriginalOutputsShallowestFirst() throws {
    let model = try SmallModels.mobilenetTiny()
    let result = try EarlyExit(after: ["block_2_expand_relu", "Conv1_relu"], hidden: 8).apply(
      to: model, selecting: .all)
    XCTAssertEqual(
      result.model.graph.outputs, ["predictions", "Conv1_relu_exit", "block_2_expand_relu_exit"])
    XCTAssertEqual(
      result.model.graph.node(named: "Conv1_relu_exit_hidden")?.spec,
      .dense(DenseSpec(units: 8, activation: .relu)))
    let shapes = try result.model.validate()
    XCTAssertEqual(shapes["block_2_expand_relu_exit"], [5])
  }

  func testExitWeightsAreSeeded() throws {
    let model = try SmallModels.mobilenetTiny()
    let a = try EarlyExit(after: ["block_1"], seed: 3).apply(to: model, selecting: .all).model.parameters
    let b = try EarlyExit(after: ["block_1"], seed: 3).apply(to: model, selecting: .all).model.parameters
    let c = try EarlyExit(after: ["block_1"], seed: 4).apply(to: model, selecting: .all).model.parameters
    XCTAssertEqual(a, b)
    XCTAssertNotEqual(a, c)
  }

  func testExitOnAVectorSkipsThePoolingAndALinearModelGetsALinearExit() throws {
    let model = SmallModels.head(
      feature: [2, 2, 3], denses: [DenseSpec(units: 9, activation: .relu), DenseSpec(units: 4)])
    let result = try EarlyExit(after: ["d1"]).apply(to: model, selecting: .all)
    XCTAssertEqual(result.model.graph.node(named: "d1_exit")?.inputs, ["d1"])
    XCTAssertEqual(result.model.graph.node(named: "d1_exit")?.spec, .dense(DenseSpec(units: 4)))
  }

  func testUnknownBlocksAndIneligibleLayersAreErrors() throws {
    let model = try SmallModels.mobilenetTiny()
    XCTAssertThrowsError(try EarlyExit(after: ["block_9"]).apply(to: model, selecting: .all)) { error in
      XCTAssertEqual((error as? AdaError)?.path, "block_9")
      XCTAssertTrue((error as? AdaError)?.message.contains("no layer or block named 'block_9'") ?? false)
    }
    XCTAssertThrowsError(try EarlyExit(after: ["predictions"]).apply(to: model, selecting: .all)) { error in
      XCTAssertTrue((error as? AdaError)?.message.contains("already a model output") ?? false, "\(error)")
    }
    XCTAssertThrowsError(try EarlyExit(after: ["block_1"], hidden: 0).apply(to: model, selecting: .all))
  }

  func testWithoutBlocksTheSelectionNamesTheLayers() throws {
    let model = try SmallModels.mobilenetTiny()
    let result = try EarlyExit(after: []).apply(to: model, selecting: .named(["block_1_add"]))
    XCTAssertEqual(result.model.graph.outputs, ["predictions", "block_1_add_exit"])
  }
}
