import AdaCompress
import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class GraphRewriterTests: XCTestCase {
  typealias M = TestModels

  /// in → a(dense 6) → b(relu) → c(dense 3), outputs [c, b]
  func chainModel() -> Model {
    M.randomModel(
      Graph(
        name: "chain",
        nodes: [
          M.node("in", .input(InputSpec(shape: [4]))),
          M.node("a", M.dense(6), "in"),
          M.node("b", .relu(ReLUSpec()), "a"),
          M.node("c", M.dense(3), "b"),
        ], outputs: ["c", "b"]),
      seed: 51)
  }

  func testReplacingByAChainLinksItAndKeepsConsumersAndWeights() throws {
    let model = chainModel()
    var r = GraphRewriter(model)
    var p = Parameters()
    p["a_first", "kernel"] = Tensor(shape: [4, 2], repeating: 1)
    p["a", "kernel"] = Tensor(shape: [2, 6], repeating: 1)
    p["a", "bias"] = model.parameters["a", "bias"]!
    r.replace(
      "a",
      withChain: [
        Node(name: "a_first", spec: M.dense(2, bias: false), inputs: []),
        Node(name: "a", spec: M.dense(6), inputs: []),
      ], parameters: p)
    XCTAssertEqual(r.graph.nodes.map(\.name), ["in", "a_first", "a", "b", "c"])
    XCTAssertEqual(r.node("a_first")!.inputs, ["in"])
    XCTAssertEqual(r.node("a")!.inputs, ["a_first"])
    XCTAssertEqual(r.node("b")!.inputs, ["a"])
    XCTAssertEqual(r.parameters["a", "kernel"]!.shape, [2, 6])
    XCTAssertEqual(r.origin(of: "a_first"), "a")
    let result = try r.result(operation: "test")
    XCTAssertEqual(result.report.layers.map(\.layer), ["a"])
    XCTAssertEqual(result.report.layers[0].after.params, 4 * 2 + 2 * 6 + 6)
  }

  func testReplacingBySubgraphRedirectsConsumersAndOutputsToItsOutput() throws {
    let model = chainModel()
    var r = GraphRewriter(model)
    r.replace(
      "b",
      with: [
        Node(name: "b_relu", spec: .relu(ReLUSpec()), inputs: ["a"]),
        Node(name: "b_tanh", spec: .activation(.tanh), inputs: ["a"]),
        Node(name: "b_sum", spec: .add, inputs: ["b_relu", "b_tanh"]),
      ], output: "b_sum", parameters: Parameters())
    XCTAssertEqual(r.node("c")!.inputs, ["b_sum"])
    XCTAssertEqual(r.graph.outputs, ["c", "b_sum"])
    XCTAssertNil(r.node("b"))
    try r.model.validate()
  }

  func testNodesInsertedOutOfOrderAreSortedTopologically() throws {
    var r = GraphRewriter(chainModel())
    // A head reading `c` inserted right after `a`: it must move after `c`.
    r.insert(
      [Node(name: "head", spec: .activation(.sigmoid), inputs: ["c"])], after: "a",
      parameters: Parameters())
    r.addOutput("head")
    XCTAssertEqual(r.graph.nodes.map(\.name), ["in", "a", "b", "c", "head"])
    let result = try r.result(operation: "early-exit")
    XCTAssertNil(r.origin(of: "head"))
    XCTAssertEqual(result.report.layers.map(\.layer), ["head"], "a new node is reported as new")
    XCTAssertEqual(result.report.layers[0].before, .zero)
  }

  func testBypassRemovesTheNodeAndItsWeightsAndRewiresConsumers() throws {
    let model = chainModel()
    var r = GraphRewriter(model)
    r.bypass("b")
    XCTAssertEqual(r.node("c")!.inputs, ["a"])
    XCTAssertEqual(r.graph.outputs, ["c", "a"])
    var r2 = GraphRewriter(model)
    r2.replace(
      "c", withChain: [Node(name: "c2", spec: .activation(.tanh), inputs: [])], parameters: Parameters())
    XCTAssertFalse(r2.parameters.keys.contains { $0.hasPrefix("c/") }, "c's weights are removed")
    XCTAssertEqual(r2.graph.outputs, ["c2", "b"])
  }

  func testRenameMovesWeightsReferencesAndProvenance() throws {
    let model = chainModel()
    var r = GraphRewriter(model)
    r.rename("a", to: "alpha")
    XCTAssertEqual(r.node("b")!.inputs, ["alpha"])
    XCTAssertEqual(r.parameters["alpha", "kernel"], model.parameters["a", "kernel"])
    XCTAssertNil(r.parameters["a", "kernel"])
    XCTAssertEqual(r.origin(of: "alpha"), "a")
    try r.model.validate()
  }

  func testUniqueNameAvoidsExistingNames() {
    var r = GraphRewriter(chainModel())
    XCTAssertEqual(r.uniqueName("z"), "z")
    XCTAssertEqual(r.uniqueName("a"), "a_2")
    r.rename("c", to: "a_2")
    XCTAssertEqual(r.uniqueName("a"), "a_3")
  }

  func testEditsLeaveTheOriginalModelUntouched() throws {
    let model = chainModel()
    let copy = model
    var r = GraphRewriter(model)
    r.setParameter("a", "bias", Tensor(shape: [6], repeating: 9))
    r.bypass("b")
    XCTAssertEqual(model.graph, copy.graph)
    XCTAssertEqual(model.parameters, copy.parameters)
    XCTAssertEqual(r.original.graph, copy.graph)
    XCTAssertEqual(r.touched, ["a", "b"])
  }

  func testAnInvalidRewriteIsReportedAsAnInternalErrorNamingTheLayer() {
    var r = GraphRewriter(chainModel())
    r.setSpec("a", M.dense(5))  // weights still [4, 6]
    XCTAssertThrowsError(try r.result(operation: "broken")) {
      let e = $0 as! AdaError
      XCTAssertEqual(e.kind, .internalError)
      XCTAssertEqual(e.path, "a/kernel")
      XCTAssertTrue(e.message.hasPrefix("broken produced an invalid model"), e.message)
    }
  }
}
