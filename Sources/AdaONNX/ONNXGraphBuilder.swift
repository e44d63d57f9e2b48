import AdaNN
import AdaTensor

/// Builds the ONNX graph node by node: emits operators and initialisers with unique names,
/// tracks each tensor's layout and converts it (one `Transpose`, cached) when an operator needs
/// the other one.
///
/// Names: a layer's graph outputs are named after the layer (Keras names; they never contain
/// `/`), every tensor inside the graph `layer/op` (`conv1/Conv`, `conv1/kernel`), so no
/// internal name can take an output's.
struct ONNXGraphBuilder {
  private(set) var nodes: [Onnx_NodeProto] = []
  private(set) var initializers: [Onnx_TensorProto] = []
  /// ONNX nodes per operator type.
  private(set) var operatorCounts: [String: Int] = [:]

  let parameters: Parameters
  /// Quantized kernels (keys `node/kernel`), already checked against `parameters`.
  let quantized: QuantizedWeights
  /// Per-example output shape of every layer (Keras layout), from `Model.validate()`.
  let shapes: [String: [Int]]
  /// ZeroPadding2D layers whose every reader is a Conv2D, DepthwiseConv2D or SeparableConv2D
  /// (see `zeroPadding2D`).
  var zeroPaddingFeedsOnlyConvolutions: Set<String> = []

  private var usedNames: Set<String> = []
  /// Tensor name → the same tensor in the other layout.
  private var transposed: [String: String] = [:]

  init(parameters: Parameters, quantized: QuantizedWeights, shapes: [String: [Int]], graph: Graph) {
    self.parameters = parameters
    self.quantized = quantized
    self.shapes = shapes
    let consumers = graph.consumers
    let specs = Dictionary(uniqueKeysWithValues: graph.nodes.map { ($0.name, $0.spec) })
    /// The layers that really read `name` at inference: through dropouts (identities).
    func readers(_ name: String) -> [LayerSpec] {
      (consumers[name] ?? []).flatMap { c -> [LayerSpec] in
        if case .dropout = specs[c]! { return readers(c) }
        return [specs[c]!]
      }
    }
    for node in graph.nodes {
      guard case .zeroPadding2D = node.spec, !graph.outputs.contains(node.name) else { continue }
      let onlyConvolutions = readers(node.name).allSatisfy {
        switch $0 {
        case .conv2D, .depthwiseConv2D, .separableConv2D: true
        default: false
        }
      }
      if onlyConvolutions { zeroPaddingFeedsOnlyConvolutions.insert(node.name) }
    }
  }

  // MARK: Names, nodes, initialisers

  /// A fresh tensor name `base`, or `base_2`, `base_3`, … when taken.
  mutating func uniqueName(_ base: String) -> String {
    var name = base
    var k = 2
    while usedNames.contains(name) {
      name = "\(base)_\(k)"
      k += 1
    }
    usedNames.insert(name)
    return name
  }

  /// Appends one operator reading `inputs`; returns the name of its (single) output,
  /// `prefix/opType` made unique.
  @discardableResult
  mutating func op(
    _ opType: String, _ inputs: [String], prefix: String, attributes: [Onnx_AttributeProto] = [],
    output: String? = nil
  ) -> String {
    let out = output ?? uniqueName("\(prefix)/\(opType)")
    var n = Onnx_NodeProto()
    n.opType = opType
    n.name = out
    n.input = inputs
    n.output = [out]
    n.attribute = attributes
    nodes.append(n)
    operatorCounts[opType, default: 0] += 1
    return out
  }

  mutating func floatConstant(_ name: String, _ values: [Float], dims: [Int]) -> String {
    let unique = uniqueName(name)
    initializers.append(ONNXProto.tensor(unique, floats: values, dims: dims))
    return unique
  }

  mutating func scalar(_ name: String, _ value: Float) -> String { floatConstant(name, [value], dims: []) }

  mutating func int64Constant(_ name: String, _ values: [Int64]) -> String {
    let unique = uniqueName(name)
    initializers.append(ONNXProto.tensor(unique, int64s: values, dims: [values.count]))
    return unique
  }

  mutating func int8Constant(_ name: String, _ values: [Int8], dims: [Int]) -> String {
    let unique = uniqueName(name)
    initializers.append(ONNXProto.tensor(unique, int8s: values, dims: dims))
    return unique
  }

  /// `Identity` from `value` to the graph output `name`.
  mutating func identity(_ value: String, to name: String) {
    usedNames.insert(name)
    op("Identity", [value], prefix: name, output: name)
  }

  // MARK: Layouts

  /// `value` channels-first (`[N, C, H, W]`); a no-op for tensors that are not images.
  mutating func channelsFirst(_ value: ONNXValue) -> ONNXValue {
    guard value.isImage, !value.channelsFirst else { return value }
    return ONNXValue(
      name: transpose(value.name, perm: [0, 3, 1, 2]), shape: value.shape, channelsFirst: true)
  }

  /// `value` in Keras layout (`[N, H, W, C]`); a no-op for tensors that are not images.
  mutating func channelsLast(_ value: ONNXValue) -> ONNXValue {
    guard value.isImage, value.channelsFirst else { return value }
    return ONNXValue(
      name: transpose(value.name, perm: [0, 2, 3, 1]), shape: value.shape, channelsFirst: false)
  }

  /// `value` in the same layout as `reference` (for merges).
  mutating func matching(_ value: ONNXValue, _ reference: ONNXValue) -> ONNXValue {
    reference.channelsFirst ? channelsFirst(value) : channelsLast(value)
  }

  private mutating func transpose(_ name: String, perm: [Int]) -> String {
    if let done = transposed[name] { return done }
    let base = name.split(separator: "/").first.map(String.init) ?? name
    let out = op(
      "Transpose", [name], prefix: base, attributes: [ONNXProto.attribute("perm", ints: perm)])
    transposed[name] = out
    transposed[out] = name
    return out
  }

  // MARK: Weights

  /// A kernel as an ONNX weight: the float values permuted by `permute` (Keras layout →
  /// ONNX layout), or, when the kernel is quantized, its int8 values permuted the same way, the
  /// per-channel scales and a `DequantizeLinear` on `axis` (the output-channel axis in ONNX
  /// layout).
  mutating func kernel(
    node: String, dims: [Int], channelAxis axis: Int, permute: ([Int]) -> [Int]
  ) -> String {
    let key = Parameters.key(node, "kernel")
    if let q = quantized[key] {
      let values = permute(Array(q.values.indices)).map { q.values[$0] }
      let ints = int8Constant("\(node)/kernel_quantized", values, dims: dims)
      let scale = floatConstant("\(node)/kernel_scale", q.scales, dims: [q.scales.count])
      let zero = int8Constant(
        "\(node)/kernel_zero_point", [Int8](repeating: 0, count: q.scales.count), dims: [q.scales.count])
      return op(
        "DequantizeLinear", [ints, scale, zero], prefix: node,
        attributes: [ONNXProto.attribute("axis", int: axis)], output: uniqueName("\(node)/kernel"))
    }
    let w = parameters[node, "kernel"]!.scalars
    return floatConstant("\(node)/kernel", permute(Array(w.indices)).map { w[$0] }, dims: dims)
  }

  /// The layer's `bias` as a `[C]` initialiser, or nil when it has none.
  mutating func bias(node: String) -> String? {
    guard let b = parameters[node, "bias"] else { return nil }
    return floatConstant("\(node)/bias", b.scalars, dims: [b.count])
  }

  /// Source indices that turn a Keras convolution kernel `[kh, kw, in, out]` (row-major) into
  /// ONNX's `[out, in, kh, kw]`: element `i` of the result is element `result[i]` of the source.
  static func convPermutation(kh: Int, kw: Int, input: Int, output: Int) -> ([Int]) -> [Int] {
    { source in
      precondition(source.count == kh * kw * input * output, "convPermutation: size mismatch")
      var order = [Int](repeating: 0, count: source.count)
      var i = 0
      for o in 0..<output {
        for c in 0..<input {
          for y in 0..<kh {
            for x in 0..<kw {
              order[i] = source[((y * kw + x) * input + c) * output + o]
              i += 1
            }
          }
        }
      }
      return order
    }
  }
}
