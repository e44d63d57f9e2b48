import AdaNN
import AdaTensor
import TestSupport

/// Small multi-exit models with random weights for the distributed-inference tests:
///
///     in [8,8,3] → stem conv 3×3 (8) → bn → relu ─┬─ b1: conv 3×3 (8) → bn ─ add1 → relu1 ─┬─ …
///                                                 └──────────────────────────┘              └ exit1: gap → dense(4, softmax)
///     … → b2: conv 3×3 s2 (12) → relu2 ─┬─ b3: conv 3×3 (12) ─ add3 → exit2 head (gap → dense softmax)
///                                       └──────────────────────┘
///     … add3 → conv 1×1 (16) → gap → out (dense 4, softmax)
///
/// Outputs: `exit1`, `exit2`, `out` (exits in depth order, the final output last), the layout of
/// the multi-exit Keras files. The heads sit right after the node they read, so cuts inside a head
/// exist and must be marked off-backbone.
enum MDIModels {
  static func node(_ name: String, _ spec: LayerSpec, _ inputs: String...) -> Node {
    Node(name: name, spec: spec, inputs: inputs)
  }

  static func conv(_ filters: Int, _ k: Int, stride: Int = 1) -> LayerSpec {
    .conv2D(
      Conv2DSpec(filters: filters, kernel: .square(k), strides: .square(stride), padding: .same))
  }

  static func head(_ name: String, reads: String, classes: Int = 4) -> [Node] {
    [
      node("\(name)_gap", .globalPool2D(GlobalPool2DSpec(kind: .average)), reads),
      node(name, .dense(DenseSpec(units: classes, activation: .softmax)), "\(name)_gap"),
    ]
  }

  static var multiExitGraph: Graph {
    var nodes = [
      node("in", .input(InputSpec(shape: [8, 8, 3]))),
      node("stem", conv(8, 3), "in"),
      node("stem_bn", .batchNorm(BatchNormSpec()), "stem"),
      node("stem_relu", .relu(ReLUSpec()), "stem_bn"),
      node("b1", conv(8, 3), "stem_relu"),
      node("b1_bn", .batchNorm(BatchNormSpec()), "b1"),
      node("add1", .add, "stem_relu", "b1_bn"),
      node("relu1", .relu(ReLUSpec()), "add1"),
    ]
    nodes += head("exit1", reads: "relu1")
    nodes += [
      node("b2", conv(12, 3, stride: 2), "relu1"),
      node("relu2", .relu(ReLUSpec()), "b2"),
      node("b3", conv(12, 3), "relu2"),
      node("add3", .add, "relu2", "b3"),
    ]
    nodes += head("exit2", reads: "add3")
    nodes += [
      node("top", conv(16, 1), "add3"),
      node("top_gap", .globalPool2D(GlobalPool2DSpec(kind: .average)), "top"),
      node("out", .dense(DenseSpec(units: 4, activation: .softmax)), "top_gap"),
    ]
    return Graph(name: "multi_exit", nodes: nodes, outputs: ["exit1", "exit2", "out"])
  }

  /// Every weight random (batch-norm variances in [0.5, 1.5)), so outputs depend on all of them.
  static func model(_ graph: Graph = multiExitGraph, seed: UInt64 = 7) -> Model {
    Fixtures.randomModel(graph, seed: seed)
  }

  static func input(batch: Int, seed: UInt64 = 42, shape: [Int] = [8, 8, 3]) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.uniform([batch] + shape, lo: -1, hi: 1, using: &g)
  }
}
