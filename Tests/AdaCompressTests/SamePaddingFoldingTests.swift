import AdaCompress
import AdaNN
import AdaTensor
import TestSupport
import XCTest

/// Hand paddings that equal `same` at the model's size fold into the convolution: identical
/// outputs there, one node fewer per strided block, and the model then runs at other sizes.
final class SamePaddingFoldingTests: XCTestCase {
  func testMobileNetPaddingsFoldWithIdenticalOutputs() throws {
    let model = try SmallModels.mobilenetTiny()  // Conv1_pad + Conv1 valid/2, block_2_pad + depthwise valid/2
    let folded = try SamePaddingFolding.apply(to: model)
    let pads = { (m: Model) in
      m.graph.nodes.filter { if case .zeroPadding2D = $0.spec { true } else { false } }
    }
    XCTAssertEqual(pads(model).count, 2)
    XCTAssertEqual(pads(folded).count, 0)
    let x = SmallModels.inputs(3, model.graph.inputShape)
    assertClose(SmallModels.predict(folded, x)[0], SmallModels.predict(model, x)[0], rtol: 1e-5, atol: 1e-7)
    // At 10×10 the hand paddings (computed for 16×16) still fit, but at 6×6 only `same` does.
    let at6 = Model(graph: Supernet.resized(folded.graph, to: 6), parameters: folded.parameters)
    XCTAssertNoThrow(try at6.validate())
  }

  /// A padding that is not what `same` would pad (symmetric 1 before a stride-2 3×3 on an even
  /// size pads (0, 1) under `same`) stays as it is.
  func testOtherPaddingsStay() throws {
    let graph = Graph(
      name: "p",
      nodes: [
        Node(name: "in", spec: .input(InputSpec(shape: [8, 8, 2])), inputs: []),
        Node(
          name: "pad", spec: .zeroPadding2D(ZeroPadding2DSpec(top: 1, bottom: 1, left: 1, right: 1)),
          inputs: ["in"]),
        Node(
          name: "conv",
          spec: .conv2D(Conv2DSpec(filters: 3, kernel: .square(3), strides: .square(2), padding: .valid)),
          inputs: ["pad"]),
      ], outputs: ["conv"])
    let model = Model(graph: graph, parameters: try Parameters.initialize(for: graph, seed: 1))
    XCTAssertEqual(try SamePaddingFolding.apply(to: model).graph, model.graph)
  }
}
