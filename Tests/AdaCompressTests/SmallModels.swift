import AdaCompress
import AdaIO
import AdaNN
import AdaTensor
import Foundation
import TestSupport

/// Small hand-built models for the fire, gap-head, quantize and early-exit tests, with seeded
/// weights (`Parameters.initialize`), and helpers to run them.
enum SmallModels {
  /// `[8, 8, 4]` → conv_a 3×3 (16, relu) → bn → conv_b 3×3 (32, relu) → pool 2×2 → flatten →
  /// fc1 (24, relu) → dropout → fc2 (10, softmax). Also holds a depthwise conv for quantisation.
  static func convNet(seed: UInt64 = 1) -> Model {
    let nodes = [
      Node(name: "input", spec: .input(InputSpec(shape: [8, 8, 4])), inputs: []),
      Node(
        name: "conv_a",
        spec: .conv2D(Conv2DSpec(filters: 16, kernel: .square(3), padding: .same, activation: .relu)),
        inputs: ["input"]),
      Node(name: "bn", spec: .batchNorm(BatchNormSpec()), inputs: ["conv_a"]),
      Node(
        name: "dw",
        spec: .depthwiseConv2D(DepthwiseConv2DSpec(kernel: .square(3), padding: .same, depthMultiplier: 2)),
        inputs: ["bn"]),
      Node(
        name: "conv_b",
        spec: .conv2D(Conv2DSpec(filters: 32, kernel: .square(3), padding: .same, activation: .relu)),
        inputs: ["dw"]),
      Node(name: "pool", spec: .pool2D(Pool2DSpec(kind: .max, pool: .square(2))), inputs: ["conv_b"]),
      Node(name: "flatten", spec: .flatten, inputs: ["pool"]),
      Node(name: "fc1", spec: .dense(DenseSpec(units: 24, activation: .relu)), inputs: ["flatten"]),
      Node(name: "dropout", spec: .dropout(DropoutSpec(rate: 0.5)), inputs: ["fc1"]),
      Node(name: "fc2", spec: .dense(DenseSpec(units: 10, activation: .softmax)), inputs: ["dropout"]),
    ]
    return model(Graph(name: "convnet", nodes: nodes, outputs: ["fc2"]), seed: seed)
  }

  /// `[shape]` → flatten → the given dense specs (named d1, d2, …), optionally with a dropout
  /// after the first; the last dense is the output.
  static func head(feature: [Int], denses: [DenseSpec], dropout: Bool = false, seed: UInt64 = 2) -> Model {
    var nodes = [
      Node(name: "input", spec: .input(InputSpec(shape: feature)), inputs: []),
      Node(name: "flatten", spec: .flatten, inputs: ["input"]),
    ]
    var previous = "flatten"
    for (i, d) in denses.enumerated() {
      nodes.append(Node(name: "d\(i + 1)", spec: .dense(d), inputs: [previous]))
      previous = "d\(i + 1)"
      if dropout && i == 0 {
        nodes.append(Node(name: "drop", spec: .dropout(DropoutSpec(rate: 0.3)), inputs: [previous]))
        previous = "drop"
      }
    }
    return model(Graph(name: "head", nodes: nodes, outputs: [previous]), seed: seed)
  }

  /// Seeded weights, with non-trivial biases and batch-norm statistics (initialisers give zeros
  /// and ones, which would hide mistakes).
  static func model(_ graph: Graph, seed: UInt64) -> Model {
    var p = try! Parameters.initialize(for: graph, seed: seed)
    var g = SeededGenerator(seed: seed &+ 99)
    for key in p.keys where !key.hasSuffix("/kernel") {
      let t = p.tensors[key]!
      p.tensors[key] =
        key.hasSuffix("movingVariance") || key.hasSuffix("gamma")
        ? .uniform(t.shape, lo: 0.5, hi: 1.5, using: &g) : .uniform(t.shape, lo: -0.2, hi: 0.2, using: &g)
    }
    return Model(graph: graph, parameters: p)
  }

  /// Seeded inputs `[n] + shape` in [0, 1).
  static func inputs(_ n: Int, _ shape: [Int], seed: UInt64 = 3) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return .uniform([n] + shape, lo: 0, hi: 1, using: &g)
  }

  /// The model's outputs on `x`.
  static func predict(_ model: Model, _ x: Tensor) -> [Tensor] {
    try! Executor(graph: model.graph).predict(x, parameters: model.parameters)
  }

  /// The mobilenet_tiny Keras fixture.
  static func mobilenetTiny() throws -> Model {
    try KerasModelReader.load(path: Fixtures.path("keras/mobilenet_tiny.h5"))
  }
}
