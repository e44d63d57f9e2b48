import AdaNN
import AdaTensor
import TestSupport
import XCTest

@testable import AdaCompress

/// The multi-exit rewrite: output order, the final output unchanged bit for bit, head shapes and
/// costs, and head training on cached features.
final class ExitHeadsTests: XCTestCase {
  let sites = [
    ExitHeads.Site(block: "conv_b", node: "pool", head: .grid(2)),
    ExitHeads.Site(block: "conv_a", node: "bn", head: .conv(8)),
    ExitHeads.Site(block: "fc1", node: "fc1", head: .gap),
  ]

  func testOutputsAreExitsInDepthOrderThenTheVariantsOwn() throws {
    let multi = try ExitHeads(sites: sites).apply(to: SmallModels.convNet())
    XCTAssertEqual(multi.graph.outputs, ["bn_exit", "pool_exit", "fc1_exit", "fc2"])
    let shapes = try multi.graph.inferShapes()
    for o in multi.graph.outputs { XCTAssertEqual(shapes[o], [10], o) }
  }

  func testFinalOutputIsBitIdenticalToTheVariant() throws {
    let variant = SmallModels.convNet()
    let multi = try ExitHeads(sites: sites).apply(to: variant)
    let x = SmallModels.inputs(5, [8, 8, 4])
    let expected = SmallModels.predict(variant, x)[0]
    let found = SmallModels.predict(multi, x).last!
    XCTAssertEqual(found.shape, expected.shape)
    XCTAssertEqual(found.scalars, expected.scalars, "the final output must not change at all")
    for key in variant.parameters.keys {
      XCTAssertEqual(multi.parameters.tensors[key], variant.parameters.tensors[key])
    }
  }

  func testHeadsEndInSoftmaxLikeTheVariant() throws {
    let multi = try ExitHeads(sites: sites).apply(to: SmallModels.convNet())
    let out = SmallModels.predict(multi, SmallModels.inputs(3, [8, 8, 4]))
    for t in out.dropLast() {
      for r in 0..<3 {
        let sum = (0..<10).reduce(Float(0)) { $0 + t[r, $1] }
        XCTAssertEqual(sum, 1, accuracy: 1e-5)
      }
    }
  }

  func testFormsParseAndPrintTheSameString() throws {
    for text in ["gap", "grid:2", "grid:4", "conv:32", "conv:16:2"] {
      XCTAssertEqual(try ExitHead.parse(text).description, text)
    }
    for bad in ["", "grid", "grid:0", "conv:x", "gap:1", "pool"] {
      XCTAssertThrowsError(try ExitHead.parse(bad), bad)
    }
  }

  func testGridPoolingGivesAboutGByGAndCountedMacs() throws {
    // 7×7 to grid 2: windows of 4 with same padding → 2×2; 14×14 → 2×2; 5×5 to grid 4 → 3×3.
    for (h, g, out) in [(7, 2, 2), (14, 2, 2), (5, 4, 3), (28, 4, 4)] {
      let nodes = ExitHead.grid(g).nodes(
        reading: "x", feature: [h, h, 3], classes: 10, prefix: "e", activation: .linear)
      let graph = Graph(
        name: "g", nodes: [Node(name: "x", spec: .input(InputSpec(shape: [h, h, 3])), inputs: [])] + nodes,
        outputs: ["e"])
      XCTAssertEqual(try graph.inferShapes()["e_pool"], [out, out, 3], "\(h)×\(h) grid \(g)")
    }
    // Dense 2·2·3 → 10: 120 MACs (+ pooling counted by LayerSpec+Cost).
    XCTAssertGreaterThanOrEqual(try ExitHead.grid(2).macs(feature: [7, 7, 3], classes: 10), 120)
    XCTAssertEqual(try ExitHead.gap.macs(feature: [16], classes: 10), 160)
  }

  func testBadSitesAreErrorsAtExitsAfter() {
    let variant = SmallModels.convNet()
    for site in [
      ExitHeads.Site(block: "x", node: "nope", head: .gap),
      ExitHeads.Site(block: "x", node: "fc2", head: .gap),
    ] {
      XCTAssertThrowsError(try ExitHeads(sites: [site]).apply(to: variant)) { error in
        XCTAssertEqual((error as? AdaError)?.path, "exits.after")
      }
    }
  }

  func testHeadTrainingLearnsALinearlySeparableTask() throws {
    // Features whose first channel's mean decides the class; a gap head must learn it.
    var g = SeededGenerator(seed: 7)
    let n = 400
    var x = Tensor.uniform([n, 4, 4, 2], lo: 0, hi: 1, using: &g)
    var labels: [Int32] = []
    for i in 0..<n {
      let c = Int32(i % 2)
      labels.append(c)
      for p in 0..<16 { x.scalars[i * 32 + p * 2] += c == 1 ? 1 : 0 }
    }
    var teacher = Tensor(shape: [n, 2])
    for i in 0..<n { teacher.scalars[i * 2 + Int(labels[i])] = 3 }
    var options = ExitTrainingOptions()
    options.epochs = 20
    options.batchSize = 32
    options.learningRate = 0.05
    let w = try ExitHeadTraining.train(
      .gap, node: "f", features: x, labels: labels, teacherLogits: teacher, options: options)
    let accuracy = try ExitHeadTraining.accuracy(
      .gap, node: "f", weights: w, features: x, labels: labels, classes: 2)
    XCTAssertGreaterThan(accuracy, 0.95)
    XCTAssertNotNil(w["f_exit", "kernel"], "weights are keyed as in the multi-exit model")
  }
}
