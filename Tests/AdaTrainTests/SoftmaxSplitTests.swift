import AdaNN
import AdaTensor
import XCTest

@testable import AdaTrain

final class SoftmaxSplitTests: XCTestCase {
  private let input = Node(name: "in", spec: .input(InputSpec(shape: [4])), inputs: [])

  func testDenseWithSoftmaxActivationBecomesLinearUnderTheSameName() {
    let g = Graph(
      name: "m",
      nodes: [
        input, Node(name: "head", spec: .dense(DenseSpec(units: 3, activation: .softmax)), inputs: ["in"]),
      ], outputs: ["head"])
    let split = g.splittingFinalSoftmax()
    XCTAssertEqual(split.softmaxRemoved, [true])
    XCTAssertEqual(split.graph.outputs, ["head"])
    XCTAssertEqual(split.graph.nodes[1].spec, .dense(DenseSpec(units: 3, activation: .linear)))
    XCTAssertEqual(
      g.nodes[1].spec, .dense(DenseSpec(units: 3, activation: .softmax)), "the input graph is untouched")
  }

  func testStandaloneSoftmaxNodesAreRemovedAndTheOutputIsTheLogits() {
    for spec in [LayerSpec.softmax(SoftmaxSpec()), .activation(.softmax)] {
      let g = Graph(
        name: "m",
        nodes: [
          input, Node(name: "logits", spec: .dense(DenseSpec(units: 3)), inputs: ["in"]),
          Node(name: "probs", spec: spec, inputs: ["logits"]),
        ],
        outputs: ["probs"])
      let split = g.splittingFinalSoftmax()
      XCTAssertEqual(split.softmaxRemoved, [true])
      XCTAssertEqual(split.graph.outputs, ["logits"])
      XCTAssertEqual(split.graph.nodes.map(\.name), ["in", "logits"])
    }
  }

  func testOutputsWithoutSoftmaxOrReadByOthersAreKept() {
    let g = Graph(
      name: "m",
      nodes: [
        input,
        Node(name: "a", spec: .dense(DenseSpec(units: 3, activation: .softmax)), inputs: ["in"]),
        Node(name: "b", spec: .dense(DenseSpec(units: 3, activation: .relu)), inputs: ["a"]),
        Node(name: "c", spec: .activation(.sigmoid), inputs: ["b"]),
      ],
      outputs: ["a", "c"])
    let split = g.splittingFinalSoftmax()
    XCTAssertEqual(split.softmaxRemoved, [false, false], "a feeds b; c is a sigmoid")
    XCTAssertEqual(split.graph, g)
  }

  func testEarlyExitsEachLoseTheirOwnSoftmax() {
    let g = Graph(
      name: "m",
      nodes: [
        input,
        Node(name: "trunk", spec: .dense(DenseSpec(units: 8, activation: .relu)), inputs: ["in"]),
        Node(name: "exit1", spec: .dense(DenseSpec(units: 3, activation: .softmax)), inputs: ["trunk"]),
        Node(name: "head", spec: .dense(DenseSpec(units: 3)), inputs: ["trunk"]),
        Node(name: "probs", spec: .softmax(SoftmaxSpec()), inputs: ["head"]),
      ],
      outputs: ["probs", "exit1"])
    let split = g.splittingFinalSoftmax()
    XCTAssertEqual(split.softmaxRemoved, [true, true])
    XCTAssertEqual(split.graph.outputs, ["head", "exit1"])
  }
}
