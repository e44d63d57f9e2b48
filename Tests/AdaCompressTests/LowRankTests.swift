import AdaCompress
import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class LowRankTests: XCTestCase {
  typealias M = TestModels

  let fullRank = LowRank(rank: .ratio(1), requireReduction: false)

  func mlp() -> Model {
    M.randomModel(
      Graph(
        name: "mlp",
        nodes: [
          M.node("in", .input(InputSpec(shape: [12]))),
          M.node("hidden", M.dense(9, activation: .relu), "in"),
          M.node("out", M.dense(5, activation: .softmax), "hidden"),
        ], outputs: ["out"]),
      seed: 11)
  }

  func convModel(_ spec: Conv2DSpec, input: [Int] = [9, 9, 3]) -> Model {
    M.randomModel(
      Graph(
        name: "conv",
        nodes: [
          M.node("in", .input(InputSpec(shape: input))),
          M.node("conv", .conv2D(spec), "in"),
          M.node("gap", .globalPool2D(GlobalPool2DSpec(kind: .average)), "conv"),
        ], outputs: ["conv", "gap"]),
      seed: 12)
  }

  func testFullRankDenseFactorisationReproducesOutputs() throws {
    let model = mlp()
    let result = try fullRank.apply(to: model, selecting: .all)
    XCTAssertEqual(
      result.model.graph.nodes.map(\.name), ["in", "hidden_lowrank", "hidden", "out_lowrank", "out"])
    let x = M.input(for: model, batch: 5)
    assertClose(M.predict(result.model, x)[0], M.predict(model, x)[0], rtol: 1e-4)
  }

  func testFullRankConvFactorisationReproducesOutputsForStridesPaddingAndDilation() throws {
    let specs = [
      Conv2DSpec(filters: 7, kernel: .square(3), strides: .square(2), padding: .same, activation: .relu),
      Conv2DSpec(filters: 5, kernel: .square(3), padding: .valid, dilation: .square(2), activation: .tanh),
      Conv2DSpec(filters: 40, kernel: Size2(3, 2), strides: Size2(1, 2), padding: .same),
      Conv2DSpec(filters: 4, kernel: .square(1), useBias: false),
    ]
    for spec in specs {
      let model = convModel(spec)
      let result = try fullRank.apply(to: model, selecting: .named(["conv"]))
      let x = M.input(for: model)
      let (got, want) = (M.predict(result.model, x), M.predict(model, x))
      assertClose(got[0], want[0], rtol: 1e-4, "\(spec)")
      assertClose(got[1], want[1], rtol: 1e-4, "\(spec)")
    }
  }

  func testLowerRankEqualsTheOriginalWithItsKernelReplacedByTheTruncatedSVD() throws {
    let spec = Conv2DSpec(filters: 12, kernel: .square(3), strides: .square(2), padding: .same)
    let model = convModel(spec, input: [8, 8, 6])
    let result = try LowRank(rank: .absolute(4)).apply(to: model, selecting: .all)
    var reference = model
    let kernel = model.parameters["conv", "kernel"]!
    reference.parameters["conv", "kernel"] = try SVD(of: kernel.reshaped([54, 12]))
      .truncated(rank: 4).reconstruct().reshaped(kernel.shape)
    let x = M.input(for: model)
    assertClose(M.predict(result.model, x)[0], M.predict(reference, x)[0], rtol: 1e-4)
  }

  func testLowerRankReducesParamsAndMACsByTheFormula() throws {
    // Dense 64 → 48 at rank 8: 64·48 + 48 → 64·8 + 8·48 + 48; MACs 64·48 → 8·(64 + 48).
    let dense = M.randomModel(
      Graph(
        name: "d",
        nodes: [
          M.node("in", .input(InputSpec(shape: [64]))),
          M.node("fc", M.dense(48), "in"),
          M.node("out", M.dense(2), "fc"),
        ], outputs: ["out"]),
      seed: 4)
    let d = try LowRank(rank: .absolute(8)).apply(to: dense, selecting: .named(["fc"])).report
    XCTAssertEqual(d.layers.map(\.layer), ["fc"])
    XCTAssertEqual(d.layers[0].before, LayerCost(params: 64 * 48 + 48, macs: 64 * 48))
    XCTAssertEqual(d.layers[0].after, LayerCost(params: 64 * 8 + 8 * 48 + 48, macs: 8 * (64 + 48)))
    XCTAssertEqual(d.before.params - d.after.params, 64 * 48 - 8 * (64 + 48))
    // Conv 3×3, 16 → 32, 8×8 same, rank 0.25 · min(144, 32) = 8.
    let conv = convModel(Conv2DSpec(filters: 32, kernel: .square(3), padding: .same), input: [8, 8, 16])
    let c = try LowRank(rank: .ratio(0.25)).apply(to: conv, selecting: .all).report
    XCTAssertEqual(c.layers[0].before, LayerCost(params: 144 * 32 + 32, macs: 64 * 144 * 32))
    XCTAssertEqual(c.layers[0].after, LayerCost(params: 144 * 8 + 8 * 32 + 32, macs: 64 * (144 * 8 + 8 * 32)))
  }

  func testLayersWhoseFactorisationWouldNotShrinkAreSkippedOrRejectedByName() throws {
    let model = mlp()
    let op = LowRank(rank: .ratio(1))
    let unchanged = try op.apply(to: model, selecting: .all)
    XCTAssertEqual(unchanged.model.graph, model.graph)
    XCTAssertThrowsError(try op.apply(to: model, selecting: .named(["hidden"]))) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.path, "hidden")
      XCTAssertTrue(e.message.contains("would not reduce"), e.message)
    }
  }

  func testLowRankOnMobileNetTinyShrinksItAndLeavesTheInputUnchanged() throws {
    let model = try M.mobilenetTiny()
    let copy = model
    let result = try LowRank(rank: .ratio(0.25)).apply(to: model, selecting: .all)
    try result.model.validate()
    XCTAssertEqual(model.graph, copy.graph)
    XCTAssertEqual(model.parameters, copy.parameters)
    XCTAssertFalse(result.report.layers.isEmpty)
    XCTAssertLessThan(result.report.after.params, result.report.before.params)
    XCTAssertEqual(M.predict(result.model, M.input(for: model))[0].shape, [3, 5])
  }

  func testInvalidRanksAreRejected() {
    for op in [LowRank(rank: .ratio(0)), LowRank(rank: .ratio(1.5)), LowRank(rank: .absolute(0))] {
      XCTAssertThrowsError(try op.apply(to: mlp(), selecting: .all), op.description) {
        XCTAssertEqual(($0 as! AdaError).path, "low-rank.rank")
      }
    }
  }
}
