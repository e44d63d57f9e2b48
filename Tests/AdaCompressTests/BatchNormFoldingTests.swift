import AdaCompress
import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class BatchNormFoldingTests: XCTestCase {
  typealias M = TestModels

  func bn(scale: Bool = true, center: Bool = true) -> LayerSpec {
    .batchNorm(BatchNormSpec(epsilon: 1e-3, center: center, scale: scale))
  }

  /// conv → bn → relu, dense → bn (no γ), depthwise(×2) → bn (no β), each folded in inference mode.
  func mixedModel() -> Model {
    M.randomModel(
      Graph(
        name: "mixed",
        nodes: [
          M.node("in", .input(InputSpec(shape: [7, 7, 3]))),
          M.node("conv", M.conv(6, 3, stride: 2, bias: false), "in"),
          M.node("conv_bn", bn(), "conv"),
          M.node("relu", .relu(ReLUSpec(maxValue: 6)), "conv_bn"),
          M.node(
            "dw",
            .depthwiseConv2D(DepthwiseConv2DSpec(kernel: .square(3), padding: .same, depthMultiplier: 2)),
            "relu"),
          M.node("dw_bn", bn(center: false), "dw"),
          M.node("gap", .globalPool2D(GlobalPool2DSpec(kind: .average)), "dw_bn"),
          M.node("fc", M.dense(4), "gap"),
          M.node("fc_bn", bn(scale: false), "fc"),
        ], outputs: ["fc_bn"]),
      seed: 31)
  }

  func testFoldingKeepsInferenceOutputsAndRemovesEveryBatchNorm() throws {
    let model = mixedModel()
    let result = try BatchNormFolding().apply(to: model, selecting: .all)
    try result.model.validate()
    XCTAssertFalse(result.model.graph.nodes.contains { $0.spec.kindName == "batch-norm" })
    XCTAssertEqual(result.model.graph.outputs, ["fc_bn"], "the output keeps its name")
    let x = M.input(for: model, batch: 4)
    assertClose(M.predict(result.model, x)[0], M.predict(model, x)[0], rtol: 1e-4)
  }

  func testFoldingMobileNetTinyKeepsOutputs() throws {
    let model = try M.mobilenetTiny()
    let copy = model
    let result = try BatchNormFolding().apply(to: model, selecting: .all)
    XCTAssertEqual(model.parameters, copy.parameters, "the input model is unchanged")
    XCTAssertFalse(result.model.graph.nodes.contains { $0.spec.kindName == "batch-norm" })
    let x = M.input(for: model, batch: 2)
    assertClose(M.predict(result.model, x)[0], M.predict(model, x)[0], rtol: 1e-4)
    // Each batch-norm's 4 vectors go; convs without a bias gain one.
    XCTAssertLessThan(result.report.after.params, result.report.before.params)
    XCTAssertEqual(result.report.after.macs, result.report.before.macs)
  }

  func testReportCountsTheRemovedBatchNormAsGone() throws {
    let model = mixedModel()
    let report = try BatchNormFolding().apply(to: model, selecting: .named(["conv"])).report
    XCTAssertEqual(report.layers.map(\.layer), ["conv", "conv_bn"])
    XCTAssertEqual(report.layers[0].after.params, report.layers[0].before.params + 6, "conv gains a bias")
    XCTAssertEqual(report.layers[1].before.params, 4 * 6)
    XCTAssertEqual(report.layers[1].after, .zero)
  }

  func testLayersWithANonlinearityOrSeveralConsumersAreNotEligible() throws {
    let model = M.randomModel(
      Graph(
        name: "g",
        nodes: [
          M.node("in", .input(InputSpec(shape: [5, 5, 2]))),
          M.node("relu_conv", M.conv(4, 3, activation: .relu), "in"),
          M.node("bn1", bn(), "relu_conv"),
          M.node("shared", M.conv(4, 3), "in"),
          M.node("bn2", bn(), "shared"),
          M.node("add", .add, "bn1", "bn2", "shared"),
        ], outputs: ["add"]),
      seed: 5)
    let op = BatchNormFolding()
    XCTAssertEqual(try op.apply(to: model, selecting: .all).model.graph, model.graph)
    XCTAssertThrowsError(try op.apply(to: model, selecting: .named(["relu_conv"]))) {
      XCTAssertTrue(($0 as! AdaError).message.contains("relu activation"), "\($0)")
    }
    XCTAssertThrowsError(try op.apply(to: model, selecting: .named(["shared"]))) {
      XCTAssertTrue(($0 as! AdaError).message.contains("only consumer"), "\($0)")
    }
  }
}
