import AdaCompress
import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class OperatorChainTests: XCTestCase {
  typealias M = TestModels

  /// in[20] → hidden(32, relu) → bn → out(6)
  func mlp() -> Model {
    M.randomModel(
      Graph(
        name: "mlp",
        nodes: [
          M.node("in", .input(InputSpec(shape: [20]))),
          M.node("hidden", M.dense(32), "in"),
          M.node("bn", .batchNorm(BatchNormSpec()), "hidden"),
          M.node("relu", .relu(ReLUSpec()), "bn"),
          M.node("out", M.dense(6), "relu"),
        ], outputs: ["out"]),
      seed: 41)
  }

  func testPruneThenLowRankReportsEachOriginalLayerBeforeAndAfterTheWholeChain() throws {
    let model = mlp()
    let prune = PruneChannels(ratio: 0.5)
    let lowRank = LowRank(rank: .absolute(4))
    let chain = OperatorChain([.init(prune), .init(lowRank, selecting: .named(["hidden"]))])
    XCTAssertEqual(chain.description, "prune-channels:0.5 → low-rank:r4")
    let result = try chain.apply(to: model, selecting: .all)
    try result.model.validate()
    XCTAssertEqual(
      result.model.graph.nodes.map(\.name), ["in", "hidden_lowrank", "hidden", "bn", "relu", "out"])
    let report = result.report
    XCTAssertEqual(report.operations, ["prune-channels:0.5", "low-rank:r4"])
    XCTAssertEqual(report.layers.map(\.layer), ["hidden", "bn", "out"])
    let hidden = report.layers[0]
    XCTAssertEqual(hidden.operation, "prune-channels:0.5 → low-rank:r4")
    XCTAssertEqual(hidden.before, LayerCost(params: 20 * 32 + 32, macs: 20 * 32))
    // 16 units kept, then rank 4: 20·4 + 4·16 + 16.
    XCTAssertEqual(hidden.after, LayerCost(params: 20 * 4 + 4 * 16 + 16, macs: 4 * (20 + 16)))
    XCTAssertEqual(report.layers[1].operation, "prune-channels:0.5")
    XCTAssertEqual(report.layers[2].after.params, 16 * 6 + 6)
    XCTAssertEqual(report.before.params, M.params(model))
    XCTAssertEqual(report.after.params, M.params(result.model))
    // Provenance: both halves of the factorised layer come from the original `hidden`.
    XCTAssertEqual(result.origins?["hidden_lowrank"], "hidden")
  }

  func testChainEqualsApplyingTheStepsOneAfterAnother() throws {
    let model = try M.mobilenetTiny()
    let steps: [any CompressionOperator] = [
      BatchNormFolding(), PruneChannels(ratio: 0.25), LowRank(rank: .ratio(0.5)),
    ]
    let chained = try OperatorChain(steps.map { .init($0) }).apply(to: model, selecting: .all)
    var manual = model
    for op in steps { manual = try op.apply(to: manual, selecting: .all).model }
    XCTAssertEqual(chained.model.graph, manual.graph)
    XCTAssertEqual(chained.model.parameters, manual.parameters)
    XCTAssertEqual(chained.report.after.params, M.params(manual))
    let x = M.input(for: model)
    XCTAssertEqual(M.predict(chained.model, x)[0].shape, [3, 5])
  }

  func testChainedReportSumsToTheModelTotals() throws {
    let model = M.residual()
    let chain = OperatorChain([
      .init(BatchNormFolding()), .init(PruneChannels(ratio: 0.5)), .init(DepthwiseSeparable()),
    ])
    let report = try chain.apply(to: model, selecting: .all).report
    let saved = report.layers.reduce(0) { $0 + $1.before.params - $1.after.params }
    XCTAssertEqual(report.before.params - report.after.params, saved)
    let savedMACs = report.layers.reduce(0) { $0 + $1.before.macs - $1.after.macs }
    XCTAssertEqual(report.before.macs - report.after.macs, savedMACs)
    XCTAssertTrue(report.layers.contains { $0.layer == "bn1" && $0.after == .zero })
  }

  func testAnEmptyChainIsTheIdentity() throws {
    let model = mlp()
    let result = try OperatorChain([]).apply(to: model, selecting: .all)
    XCTAssertEqual(result.model.graph, model.graph)
    XCTAssertTrue(result.report.layers.isEmpty)
    XCTAssertEqual(result.report.before, result.report.after)
  }

  func testAStepsSelectionErrorPropagates() {
    let chain = OperatorChain([.init(LowRank(rank: .absolute(2)), selecting: .named(["missing"]))])
    XCTAssertThrowsError(try chain.apply(to: mlp(), selecting: .all)) {
      XCTAssertEqual(($0 as! AdaError).path, "missing")
    }
  }
}
