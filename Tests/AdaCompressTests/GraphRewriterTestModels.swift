import AdaCompress
import AdaIO
import AdaNN
import AdaTensor
import TestSupport
import XCTest

/// Small graphs with random weights for the operator tests, and helpers to run them.
enum TestModels {
  static func node(_ name: String, _ spec: LayerSpec, _ inputs: String...) -> Node {
    Node(name: name, spec: spec, inputs: inputs)
  }

  static func conv(
    _ filters: Int, _ k: Int, stride: Int = 1, padding: Padding = .same, dilation: Int = 1,
    activation: Activation = .linear, bias: Bool = true
  ) -> LayerSpec {
    .conv2D(
      Conv2DSpec(
        filters: filters, kernel: .square(k), strides: .square(stride), padding: padding,
        dilation: .square(dilation), useBias: bias, activation: activation))
  }

  static func dense(_ units: Int, activation: Activation = .linear, bias: Bool = true) -> LayerSpec {
    .dense(DenseSpec(units: units, useBias: bias, activation: activation))
  }

  /// Random weights for every node: normal(0, 0.5) everywhere, moving variances in [0.5, 1.5].
  static func randomModel(_ graph: Graph, seed: UInt64) -> Model {
    Fixtures.randomModel(graph, seed: seed)
  }

  /// A batch of uniform [-1, 1) inputs for `model`.
  static func input(for model: Model, batch: Int = 3, seed: UInt64 = 42) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.uniform([batch] + model.graph.inputShape, lo: -1, hi: 1, using: &g)
  }

  /// Inference outputs, in `graph.outputs` order.
  static func predict(_ model: Model, _ x: Tensor) -> [Tensor] {
    try! Executor(graph: model.graph).predict(x, parameters: model.parameters)
  }

  static func params(_ model: Model) -> Int { try! model.graph.costs().total.params }

  /// conv1 → bn1 → relu1 ─┬──────────────────────────────── add → relu → dw → conv4 → gap → out
  ///                      └ conv2 → bn2 → relu2 → conv3 → bn3 ┘
  static func residual(seed: UInt64 = 1) -> Model {
    randomModel(
      Graph(
        name: "residual",
        nodes: [
          node("in", .input(InputSpec(shape: [8, 8, 3]))),
          node("conv1", conv(8, 3), "in"),
          node("bn1", .batchNorm(BatchNormSpec()), "conv1"),
          node("relu1", .relu(ReLUSpec()), "bn1"),
          node("conv2", conv(6, 3), "relu1"),
          node("bn2", .batchNorm(BatchNormSpec()), "conv2"),
          node("relu2", .relu(ReLUSpec()), "bn2"),
          node("conv3", conv(8, 1), "relu2"),
          node("bn3", .batchNorm(BatchNormSpec()), "conv3"),
          node("add", .add, "relu1", "bn3"),
          node("relu_add", .activation(.relu), "add"),
          node("dw", .depthwiseConv2D(DepthwiseConv2DSpec(kernel: .square(3), padding: .same)), "relu_add"),
          node("conv4", conv(10, 1, activation: .relu), "dw"),
          node("gap", .globalPool2D(GlobalPool2DSpec(kind: .average)), "conv4"),
          node("out", dense(5, activation: .softmax), "gap"),
        ], outputs: ["out"]),
      seed: seed)
  }

  /// convA ‖ convB (concatenated on channels) + convD → add → bn → conv_c → pool → flatten →
  /// dense1 → dropout → out.
  static func concatenated(seed: UInt64 = 2) -> Model {
    randomModel(
      Graph(
        name: "concat",
        nodes: [
          node("in", .input(InputSpec(shape: [6, 6, 4]))),
          node("convA", conv(6, 3, activation: .relu), "in"),
          node("convB", conv(4, 1), "in"),
          node("cat", .concatenate(ConcatenateSpec(axis: -1)), "convA", "convB"),
          node("convD", conv(10, 1), "in"),
          node("add", .add, "cat", "convD"),
          node("bn", .batchNorm(BatchNormSpec()), "add"),
          node("conv_c", conv(8, 3, activation: .relu), "bn"),
          node("pool", .pool2D(Pool2DSpec(kind: .max, pool: .square(2))), "conv_c"),
          node("flatten", .flatten, "pool"),
          node("dense1", dense(12, activation: .relu), "flatten"),
          node("drop", .dropout(DropoutSpec(rate: 0.5)), "dense1"),
          node("out", dense(3), "drop"),
        ], outputs: ["out"]),
      seed: seed)
  }

  /// conv (relu) → flatten → dense → out: the Flatten→Dense row mapping.
  static func flattenChain(seed: UInt64 = 3) -> Model {
    randomModel(
      Graph(
        name: "flatten-chain",
        nodes: [
          node("in", .input(InputSpec(shape: [4, 5, 2]))),
          node("conv", conv(6, 3, activation: .relu), "in"),
          node("flatten", .flatten, "conv"),
          node("dense", dense(7, activation: .tanh), "flatten"),
          node("out", dense(3), "dense"),
        ], outputs: ["out"]),
      seed: seed)
  }

  static func mobilenetTiny() throws -> Model {
    try KerasModelReader.load(path: Fixtures.path("keras/mobilenet_tiny.h5"))
  }

  static func fmnistCNN() throws -> Model {
    try KerasModelReader.load(path: Fixtures.path("keras/fmnist_cnn.h5"))
  }
}
