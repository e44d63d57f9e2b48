import AdaNN
import AdaProfile
import Foundation
import XCTest

/// The Fashion-MNIST CNN of tools/reference (same as recipes/models/fmnist_cnn.yaml), built in code.
func fmnistGraph(filters: (Int, Int) = (32, 64)) -> Graph {
  let specs: [(String, LayerSpec)] = [
    ("conv1", .conv2D(Conv2DSpec(filters: filters.0, kernel: .square(3), padding: .same))),
    ("bn1", .batchNorm(BatchNormSpec())), ("relu1", .relu(ReLUSpec())),
    ("pool1", .pool2D(Pool2DSpec(kind: .max, pool: .square(2)))),
    ("conv2", .conv2D(Conv2DSpec(filters: filters.1, kernel: .square(3), padding: .same))),
    ("bn2", .batchNorm(BatchNormSpec())), ("relu2", .relu(ReLUSpec())),
    ("pool2", .pool2D(Pool2DSpec(kind: .max, pool: .square(2)))), ("flatten", .flatten),
    ("fc1", .dense(DenseSpec(units: 64, activation: .relu))),
    ("dropout", .dropout(DropoutSpec(rate: 0.3))),
    ("fc2", .dense(DenseSpec(units: 10, activation: .softmax))),
  ]
  var nodes = [Node(name: "input", spec: .input(InputSpec(shape: [28, 28, 1])), inputs: [])]
  for (name, spec) in specs { nodes.append(Node(name: name, spec: spec, inputs: [nodes.last!.name])) }
  return Graph(name: "fmnist_cnn", nodes: nodes, outputs: ["fc2"])
}

final class OpSignatureTests: XCTestCase {
  /// Keys are the cache's and the table's identity: a change here invalidates every stored
  /// measurement, so the exact strings are pinned.
  func testSignatureKeysOfTheFashionMNISTCNNAreStable() throws {
    let keys = try fmnistGraph().profiledOps().map(\.signature.key)
    XCTAssertEqual(
      keys,
      [
        "input|in=28x28x1|out=28x28x1|b=32",
        "conv2d|in=28x28x1|out=28x28x32|k=3x3|s=1x1|p=same|d=1x1|b=32",
        "batch-norm|in=28x28x32|out=28x28x32|b=32",
        "relu|in=28x28x32|out=28x28x32|act=relu|b=32",
        "max-pool2d|in=28x28x32|out=14x14x32|k=2x2|s=2x2|p=valid|b=32",
        "conv2d|in=14x14x32|out=14x14x64|k=3x3|s=1x1|p=same|d=1x1|b=32",
        "batch-norm|in=14x14x64|out=14x14x64|b=32",
        "relu|in=14x14x64|out=14x14x64|act=relu|b=32",
        "max-pool2d|in=14x14x64|out=7x7x64|k=2x2|s=2x2|p=valid|b=32",
        "flatten|in=7x7x64|out=3136|b=32",
        "dense|in=3136|out=64|act=relu|b=32",
        "dropout|in=64|out=64|b=32",
        "dense|in=64|out=10|act=softmax|b=32",
      ])
  }

  func testDepthwiseAndMultiInputKeysNameGroupsMultiplierAndEveryInput() {
    let dw = OpSignature(
      spec: .depthwiseConv2D(
        DepthwiseConv2DSpec(kernel: .square(3), strides: .square(2), depthMultiplier: 2)),
      inputShapes: [[9, 9, 8]], outputShape: [4, 4, 16])
    XCTAssertEqual(
      dw.key, "depthwise-conv2d|in=9x9x8|out=4x4x16|k=3x3|s=2x2|p=valid|d=1x1|g=8|m=2|b=32")
    let add = OpSignature(spec: .add, inputShapes: [[8, 8, 4], [8, 8, 4]], outputShape: [8, 8, 4])
    XCTAssertEqual(add.key, "add|in=8x8x4+8x8x4|out=8x8x4|b=32")
  }

  func testBitsChangeTheKeyAndTheWeightBytes() throws {
    let graph = fmnistGraph()
    let full = try graph.profiledOps()
    let quantized = try graph.profiledOps(bits: ["fc1": 8])
    let i = full.firstIndex { $0.node == "fc1" }!
    XCTAssertEqual(full[i].signature.key, "dense|in=3136|out=64|act=relu|b=32")
    XCTAssertEqual(quantized[i].signature.key, "dense|in=3136|out=64|act=relu|b=8")
    XCTAssertEqual(full[i].work.weightBytes, (3136 * 64 + 64) * 4)
    XCTAssertEqual(quantized[i].work.weightBytes, 3136 * 64 + 64)
    XCTAssertEqual(full[1].signature.key, quantized[1].signature.key, "other nodes keep their keys")
  }

  func testSignatureSurvivesAJSONRoundTrip() throws {
    for op in try fmnistGraph().profiledOps() {
      let data = try JSONEncoder().encode(op.signature)
      let back = try JSONDecoder().decode(OpSignature.self, from: data)
      XCTAssertEqual(back, op.signature)
      XCTAssertEqual(back.key, op.signature.key)
    }
  }

  /// conv1: 28·28·9·1·32 MACs; bytes = input 28·28·4 + weights (288+32)·4 + output 28·28·32·4
  /// + 2 × im2col columns 28·28·9·4.
  func testWorkOfAConvolutionIsCountedByHand() throws {
    let ops = try fmnistGraph().profiledOps()
    let conv1 = ops[1].work
    XCTAssertEqual(conv1.macs, 225_792)
    XCTAssertEqual(conv1.flops, 2 * 225_792 + 28 * 28 * 32)  // + bias; linear activation
    XCTAssertEqual(conv1.params, 320)
    XCTAssertEqual(conv1.workspaceBytes, 28 * 28 * 9 * 4)
    XCTAssertEqual(conv1.bytesMoved, 3136 + 1280 + 100_352 + 2 * 28_224)
    XCTAssertTrue(ops[9].work.aliasesInput, "flatten shares its input's storage")
    XCTAssertEqual(ops[9].work.bytesMoved, 0)
  }
}
