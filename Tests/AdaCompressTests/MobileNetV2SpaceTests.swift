import AdaCompress
import AdaIO
import AdaNN
import AdaTensor
import TestSupport
import XCTest

/// The once-for-all space on the real thing: `keras.applications.MobileNetV2(alpha=0.35)` as
/// Keras trained and saved it (recipes/models/keras/mobilenetv2_035_fmnist32.h5, made by
/// tools/reference/train_mobilenetv2.py), the model `recipes/mobilenetv2_fmnist.yaml` compresses.
final class MobileNetV2SpaceTests: XCTestCase {
  static let file = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("recipes/models/keras/mobilenetv2_035_fmnist32.h5").path

  func testHiddenWidthsDepthAndResolutionFindMobileNetV2sStructure() throws {
    let model = try KerasModelReader.load(path: Self.file)
    let net = try Supernet(
      source: model,
      options: SupernetOptions(
        widths: [1, 0.5, 0.25], hiddenOnly: true, elasticDepth: true, resolutions: [32, 24, 16]))
    // The 16 expansions, the stem, the two projections that write no residual stream, the head.
    XCTAssertEqual(net.blocks.count, 20)
    XCTAssertEqual(net.blocks.filter { $0.name.hasSuffix("_expand") }.count, 16)
    XCTAssertEqual(
      Set(net.blocks.map(\.name)).subtracting(net.blocks.map(\.name).filter { $0.hasSuffix("_expand") }),
      ["Conv1", "expanded_conv_project", "block_16_project", "Conv_1"])
    // Stages: blocks 2 | 4, 5 | 7, 8, 9 | 11, 12 | 14, 15 follow each stage's first block.
    XCTAssertEqual(net.stages.map(\.units.count), [1, 2, 3, 2, 2])
    XCTAssertEqual(
      net.stages.map(\.name), ["block_2_add", "block_4_add", "block_7_add", "block_11_add", "block_14_add"])
    XCTAssertEqual(net.resolutions, [32, 24, 16])

    var config = net.largest
    config.blocks[net.blocks.firstIndex { $0.name == "block_3_expand" }!].width = 0.5
    config.blocks[net.blocks.firstIndex { $0.name == "Conv_1" }!].width = 0.5
    config.depths[2] = 1
    config.resolution = 24
    XCTAssertEqual(
      net.summary(config), "block_3_expand e=3, Conv_1 w=0.5 · depth 1/2/1/2/2 of 1/2/3/2/2 · 24×24 input")

    let smallest = try net.materialize(net.smallest).model(from: net.weights).model
    XCTAssertEqual(smallest.graph.inputShape, [16, 16, 3])
    let (full, small) = (try model.graph.costs().total, try smallest.graph.costs().total)
    XCTAssertLessThan(
      Double(small.macs), 0.1 * Double(full.macs), "smallest: \(small.macs) of \(full.macs) MACs")
    XCTAssertLessThan(smallest.graph.nodes.count, model.graph.nodes.count - 50)
    var x = Tensor(shape: [2, 16, 16, 3])
    for i in x.scalars.indices { x.scalars[i] = Float(i % 17) / 8 - 1 }
    let y = try Executor(graph: smallest.graph).predict(x, parameters: smallest.parameters)[0]
    XCTAssertEqual(y.shape, [2, 10])
    XCTAssertTrue(y.scalars.allSatisfy(\.isFinite))
  }
}
