import AdaCompress
import AdaNN
import AdaTensor
import TestSupport

/// The models the ONNX tests export: every layer kind (and the settings that change its
/// operators) alone, and a small CNN through every compression operator alone and chained.
/// Deterministic: seeded weights and inputs, so the committed onnxruntime outputs
/// (Tests/Fixtures/onnx/<name>.io.h5, tools/reference/make_onnx_fixtures.sh) stay valid.
struct ONNXExportCase {
  var name: String
  var model: Model
  var quantized: QuantizedWeights = [:]

  /// A batch of 2 uniform [-1, 1) inputs (seeded by the case name's length and the shape).
  var input: Tensor {
    var g = SeededGenerator(seed: 7 &+ UInt64(name.utf8.count))
    return Tensor.uniform([2] + model.graph.inputShape, lo: -1, hi: 1, using: &g)
  }

  static var all: [ONNXExportCase] { layers + operators }

  // MARK: One layer kind at a time

  static func single(
    _ name: String, input: [Int], _ layers: [(String, LayerSpec)], seed: UInt64 = 1
  ) -> ONNXExportCase {
    var nodes = [Node(name: "in", spec: .input(InputSpec(shape: input)), inputs: [])]
    for (layerName, spec) in layers {
      nodes.append(Node(name: layerName, spec: spec, inputs: [nodes.last!.name]))
    }
    let graph = Graph(name: name, nodes: nodes, outputs: [nodes.last!.name])
    return ONNXExportCase(name: name, model: Fixtures.randomModel(graph, seed: seed))
  }

  static func conv(
    _ filters: Int, _ k: Size2, strides: Size2 = .square(1), padding: Padding = .valid,
    dilation: Size2 = .square(1), bias: Bool = true, activation: Activation = .linear
  ) -> LayerSpec {
    .conv2D(
      Conv2DSpec(
        filters: filters, kernel: k, strides: strides, padding: padding, dilation: dilation, useBias: bias,
        activation: activation))
  }

  static var layers: [ONNXExportCase] {
    let img = [7, 6, 3]
    var cases: [ONNXExportCase] = [
      single("conv_valid_relu", input: img, [("c", conv(4, Size2(3, 2), activation: .relu))]),
      single(
        "conv_same_stride2", input: img, [("c", conv(5, .square(3), strides: Size2(2, 1), padding: .same))]),
      single(
        "conv_same_dilated", input: img, [("c", conv(4, .square(3), padding: .same, dilation: .square(2)))]),
      single(
        "depthwise_multiplier2_same",
        input: img,
        [
          (
            "d",
            .depthwiseConv2D(
              DepthwiseConv2DSpec(
                kernel: .square(3), padding: .same, depthMultiplier: 2,
                activation: .relu6))
          )
        ]),
      single(
        "separable_swish", input: img,
        [
          (
            "s",
            .separableConv2D(
              SeparableConv2DSpec(
                filters: 5, kernel: .square(3), padding: .same,
                depthMultiplier: 2, activation: .swish))
          )
        ]),
      single("dense_rank2_sigmoid", input: [6], [("d", .dense(DenseSpec(units: 4, activation: .sigmoid)))]),
      single("dense_on_images_tanh", input: img, [("d", .dense(DenseSpec(units: 2, activation: .tanh)))]),
      single(
        "batch_norm_folded", input: img,
        [("c", conv(4, .square(1), bias: false)), ("bn", .batchNorm(BatchNormSpec()))]),
      single(
        "batch_norm_alone", input: img,
        [("r", .relu(ReLUSpec())), ("bn", .batchNorm(BatchNormSpec(epsilon: 0.01, center: false)))]),
      single("relu_cap_leak", input: img, [("r", .relu(ReLUSpec(maxValue: 0.5, negativeSlope: 0.1)))]),
      single(
        "relu_threshold", input: img,
        [("r", .relu(ReLUSpec(maxValue: 0.8, negativeSlope: 0.2, threshold: 0.3)))]),
      single(
        "max_pool_same", input: img,
        [("p", .pool2D(Pool2DSpec(kind: .max, pool: .square(3), strides: .square(2), padding: .same)))]),
      single(
        "avg_pool_same", input: img,
        [("p", .pool2D(Pool2DSpec(kind: .average, pool: .square(3), strides: .square(2), padding: .same)))]),
      single(
        "avg_pool_valid", input: img,
        [("p", .pool2D(Pool2DSpec(kind: .average, pool: Size2(2, 3), strides: .square(1))))]),
      single("global_avg_pool", input: img, [("g", .globalPool2D(GlobalPool2DSpec(kind: .average)))]),
      single(
        "global_max_pool_keepdims", input: img,
        [("g", .globalPool2D(GlobalPool2DSpec(kind: .max, keepDims: true)))]),
      single("flatten", input: img, [("c", conv(2, .square(1))), ("f", .flatten)]),
      single(
        "reshape", input: img,
        [("c", conv(2, .square(1))), ("r", .reshape(ReshapeSpec(targetShape: [-1, 6])))]),
      single(
        "zero_padding_then_max_pool", input: img,
        [
          ("z", .zeroPadding2D(ZeroPadding2DSpec(top: 1, bottom: 2, left: 0, right: 1))),
          ("p", .pool2D(Pool2DSpec(kind: .max, pool: .square(2)))),
        ]),
      single("softmax_on_images", input: img, [("s", .softmax(SoftmaxSpec()))]),
      single("rescaling", input: img, [("r", .rescaling(RescalingSpec(scale: 0.5, offset: -0.25)))]),
      single(
        "rescaling_per_channel", input: img,
        [
          (
            "r",
            .rescaling(RescalingSpec(scale: 1, channelScales: [0.5, 2, -1], channelOffsets: [0.1, 0, -0.2]))
          )
        ]),
      withPositiveVariance(single("normalization", input: img, [("n", .normalization(NormalizationSpec()))])),
      withPositiveVariance(
        single("normalization_inverted", input: img, [("n", .normalization(NormalizationSpec(invert: true)))])
      ),
    ]
    for a in Activation.allCases where ![.linear, .relu].contains(a) {
      cases.append(single("activation_\(a.rawValue)", input: img, [("a", .activation(a))]))
    }
    cases += [merges, quantizedKernels(bits: 8), quantizedKernels(bits: 4)]
    return cases
  }

  /// The Normalization layer `n`'s variance made positive (random weights are normal(0, 0.5)).
  static func withPositiveVariance(_ c: ONNXExportCase) -> ONNXExportCase {
    var c = c
    c.model.parameters["n", "variance"] = c.model.parameters["n", "variance"]!.map { abs($0) + 0.1 }
    return c
  }

  /// Add with a `[1, 1, C]` branch, Multiply with a `[C]` (lower-rank) branch, Concatenate on
  /// channels and on height.
  static var merges: ONNXExportCase {
    let graph = Graph(
      name: "merges",
      nodes: [
        Node(name: "in", spec: .input(InputSpec(shape: [5, 4, 3])), inputs: []),
        Node(name: "c", spec: conv(3, .square(1)), inputs: ["in"]),
        Node(
          name: "g", spec: .globalPool2D(GlobalPool2DSpec(kind: .average, keepDims: true)), inputs: ["in"]),
        Node(name: "add", spec: .add, inputs: ["c", "g"]),
        Node(name: "v", spec: .globalPool2D(GlobalPool2DSpec(kind: .max)), inputs: ["c"]),
        Node(name: "mul", spec: .multiply, inputs: ["add", "v"]),
        Node(name: "cat_c", spec: .concatenate(ConcatenateSpec(axis: -1)), inputs: ["mul", "in"]),
        Node(name: "cat_h", spec: .concatenate(ConcatenateSpec(axis: 0)), inputs: ["cat_c", "cat_c"]),
        Node(name: "f", spec: .flatten, inputs: ["cat_h"]),
      ], outputs: ["v", "f"])
    return ONNXExportCase(name: "merges", model: Fixtures.randomModel(graph, seed: 3))
  }

  /// Conv2D, DepthwiseConv2D and Dense kernels quantized to `bits`.
  static func quantizedKernels(bits: Int) -> ONNXExportCase {
    let base = single(
      "quantized_\(bits)bit", input: [6, 6, 2],
      [
        ("c", conv(4, .square(3), padding: .same, activation: .relu)),
        ("d", .depthwiseConv2D(DepthwiseConv2DSpec(kernel: .square(3), depthMultiplier: 2))),
        ("f", .flatten), ("fc", .dense(DenseSpec(units: 3))),
      ], seed: 5)
    let result = try! Quantize(bits: bits).apply(to: base.model, selecting: .all)
    return ONNXExportCase(name: base.name, model: result.model, quantized: result.quantized)
  }

  // MARK: Compression operators on a small CNN

  /// conv(8) → bn → relu → pool → conv(12) → bn → relu → pool → flatten → fc(16) → relu → fc(4)
  static var smallCNN: Model {
    let nodes: [Node] = [
      Node(name: "in", spec: .input(InputSpec(shape: [12, 12, 1])), inputs: []),
      Node(name: "conv1", spec: conv(8, .square(3), padding: .same), inputs: ["in"]),
      Node(name: "bn1", spec: .batchNorm(BatchNormSpec()), inputs: ["conv1"]),
      Node(name: "relu1", spec: .relu(ReLUSpec()), inputs: ["bn1"]),
      Node(name: "pool1", spec: .pool2D(Pool2DSpec(kind: .max, pool: .square(2))), inputs: ["relu1"]),
      Node(name: "conv2", spec: conv(12, .square(3), padding: .same), inputs: ["pool1"]),
      Node(name: "bn2", spec: .batchNorm(BatchNormSpec()), inputs: ["conv2"]),
      Node(name: "relu2", spec: .relu(ReLUSpec()), inputs: ["bn2"]),
      Node(name: "pool2", spec: .pool2D(Pool2DSpec(kind: .max, pool: .square(2))), inputs: ["relu2"]),
      Node(name: "flatten", spec: .flatten, inputs: ["pool2"]),
      Node(name: "fc1", spec: .dense(DenseSpec(units: 16, activation: .relu)), inputs: ["flatten"]),
      Node(name: "fc2", spec: .dense(DenseSpec(units: 4, activation: .softmax)), inputs: ["fc1"]),
    ]
    return Fixtures.randomModel(Graph(name: "small_cnn", nodes: nodes, outputs: ["fc2"]), seed: 11)
  }

  /// Each operator alone at a moderate setting, and two chains (as `adascale apply --op …`).
  static let operatorChains: [[String]] = [
    ["prune-channels:0.5"], ["low-rank:0.5"], ["depthwise-separable"], ["fire:0.5"], ["gap-head"],
    ["quantize:8"], ["quantize:4"], ["fold-batch-norm"], ["early-exit:pool1:8"],
    ["prune-channels:0.5", "low-rank:0.5", "quantize:8"],
    ["depthwise-separable", "early-exit:pool1:8", "quantize:4"],
  ]

  static var operators: [ONNXExportCase] {
    let source = smallCNN
    return operatorChains.map { ops in
      let chain = OperatorChain(try! OperatorParser.parse(ops).map { OperatorChain.Step($0) })
      let result = try! chain.apply(to: source, selecting: .all)
      let name =
        "op_"
        + ops.joined(separator: "+").map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init)
        .joined()
      return ONNXExportCase(name: name, model: result.model, quantized: result.quantized)
    }
  }
}
