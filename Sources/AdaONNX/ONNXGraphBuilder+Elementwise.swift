import AdaCompress
import AdaNN
import AdaTensor

/// Activations and per-channel affine layers. They work in whatever layout their input has;
/// per-channel constants are shaped `[C, 1, 1]` for channels-first images, `[C]` otherwise.
extension ONNXGraphBuilder {
  /// `f(x)` as ONNX operators (Keras 3 semantics, see `Activation`):
  /// relu → `Relu`; relu6 → `Clip(0, 6)`; sigmoid, tanh, softplus → same names; elu → `Elu`;
  /// softmax → `Softmax` on the channel axis; swish → `x · Sigmoid(x)`;
  /// hard-sigmoid → `HardSigmoid(α = 1/6, β = 1/2)`; hard-swish → `HardSwish`;
  /// gelu → `x · (1 + Erf(x / √2)) / 2`.
  mutating func activation(_ a: Activation, _ x: ONNXValue, prefix: String) -> ONNXValue {
    func out(_ name: String) -> ONNXValue {
      ONNXValue(name: name, shape: x.shape, channelsFirst: x.channelsFirst)
    }
    switch a {
    case .linear:
      return x
    case .relu:
      return out(op("Relu", [x.name], prefix: prefix))
    case .relu6:
      let (lo, hi) = (scalar("\(prefix)/zero", 0), scalar("\(prefix)/six", 6))
      return out(op("Clip", [x.name, lo, hi], prefix: prefix))
    case .sigmoid:
      return out(op("Sigmoid", [x.name], prefix: prefix))
    case .tanh:
      return out(op("Tanh", [x.name], prefix: prefix))
    case .softplus:
      return out(op("Softplus", [x.name], prefix: prefix))
    case .elu:
      return out(op("Elu", [x.name], prefix: prefix, attributes: [ONNXProto.attribute("alpha", float: 1)]))
    case .softmax:
      let axis = x.channelsFirst ? 1 : -1
      return out(
        op("Softmax", [x.name], prefix: prefix, attributes: [ONNXProto.attribute("axis", int: axis)]))
    case .swish:
      let s = op("Sigmoid", [x.name], prefix: prefix)
      return out(op("Mul", [x.name, s], prefix: prefix))
    case .hardSigmoid:
      return out(
        op(
          "HardSigmoid", [x.name], prefix: prefix,
          attributes: [ONNXProto.attribute("alpha", float: 1 / 6), ONNXProto.attribute("beta", float: 0.5)]))
    case .hardSwish:
      return out(op("HardSwish", [x.name], prefix: prefix))
    case .gelu:
      let scaled = op("Div", [x.name, scalar("\(prefix)/sqrt2", Float(2).squareRoot())], prefix: prefix)
      let erf = op("Erf", [scaled], prefix: prefix)
      let onePlus = op("Add", [erf, scalar("\(prefix)/one", 1)], prefix: prefix)
      let times = op("Mul", [x.name, onePlus], prefix: prefix)
      return out(op("Mul", [times, scalar("\(prefix)/half", 0.5)], prefix: prefix))
    }
  }

  /// Keras `ReLU`: `Relu`, `Clip(0, max)` or `LeakyRelu` (+ `Min`) when the threshold is 0;
  /// otherwise the exact piecewise form with `Where`:
  /// `x ≥ max ? max : (x > t ? x : slope · (x − t))`.
  mutating func relu(_ name: String, _ s: ReLUSpec, _ x: ONNXValue) -> ONNXValue {
    func out(_ n: String) -> ONNXValue { ONNXValue(name: n, shape: x.shape, channelsFirst: x.channelsFirst) }
    if s.threshold == 0 {
      if s.negativeSlope == 0 {
        guard let cap = s.maxValue else { return out(op("Relu", [x.name], prefix: name)) }
        return out(op("Clip", [x.name, scalar("\(name)/zero", 0), scalar("\(name)/max", cap)], prefix: name))
      }
      let leaky = op(
        "LeakyRelu", [x.name], prefix: name,
        attributes: [ONNXProto.attribute("alpha", float: s.negativeSlope)])
      guard let cap = s.maxValue else { return out(leaky) }
      return out(op("Min", [leaky, scalar("\(name)/max", cap)], prefix: name))
    }
    let t = scalar("\(name)/threshold", s.threshold)
    let below = op(
      "Mul", [op("Sub", [x.name, t], prefix: name), scalar("\(name)/slope", s.negativeSlope)], prefix: name)
    let above = op("Greater", [x.name, t], prefix: name)
    var y = op("Where", [above, x.name, below], prefix: name)
    if let cap = s.maxValue {
      let capName = scalar("\(name)/max", cap)
      let atCap = op("GreaterOrEqual", [x.name, capName], prefix: name)
      y = op("Where", [atCap, capName, y], prefix: name)
    }
    return out(y)
  }

  /// `x · scale + shift` per channel, skipping a unit scale or a zero shift.
  mutating func affine(_ name: String, _ x: ONNXValue, scale: [Float], shift: [Float]) -> ONNXValue {
    var y = x.name
    let dims = x.channelConstantShape
    if scale.contains(where: { $0 != 1 }) {
      y = op("Mul", [y, floatConstant("\(name)/scale", scale, dims: dims)], prefix: name)
    }
    if shift.contains(where: { $0 != 0 }) {
      y = op("Add", [y, floatConstant("\(name)/shift", shift, dims: dims)], prefix: name)
    }
    if y == x.name { y = op("Identity", [y], prefix: name) }
    return ONNXValue(name: y, shape: x.shape, channelsFirst: x.channelsFirst)
  }

  /// A batch-norm that could not be folded: inference-mode `x · a + b` (`BatchNormFolding.affine`).
  mutating func batchNorm(_ name: String, _ s: BatchNormSpec, _ x: ONNXValue) -> ONNXValue {
    let (a, b) = BatchNormFolding.affine(s, parameters, node: name)
    return affine(name, x, scale: a, shift: b)
  }

  /// `x · scale + offset`, scalars or per channel.
  mutating func rescaling(_ name: String, _ s: RescalingSpec, _ x: ONNXValue) -> ONNXValue {
    let c = x.channels
    let scale = s.channelScales ?? [Float](repeating: s.scale, count: c)
    let offset = s.channelOffsets ?? [Float](repeating: s.offset, count: c)
    guard s.isPerChannel else {
      var y = x.name
      if s.scale != 1 { y = op("Mul", [y, scalar("\(name)/scale", s.scale)], prefix: name) }
      if s.offset != 0 { y = op("Add", [y, scalar("\(name)/offset", s.offset)], prefix: name) }
      if y == x.name { y = op("Identity", [y], prefix: name) }
      return ONNXValue(name: y, shape: x.shape, channelsFirst: x.channelsFirst)
    }
    return affine(name, x, scale: scale, shift: offset)
  }

  /// `(x − mean) / σ` (`Sub`, `Div`), or inverted `x · σ + mean`, with
  /// `σ = max(√variance, 1e-7)` computed here in Float as `NormalizationLayer` does.
  mutating func normalization(_ name: String, _ s: NormalizationSpec, _ x: ONNXValue) -> ONNXValue {
    let mean = parameters[name, "mean"]!.scalars
    let sigma = parameters[name, "variance"]!.scalars.map { max($0.squareRoot(), NormalizationSpec.epsilon) }
    let dims = x.channelConstantShape
    let meanName = floatConstant("\(name)/mean", mean, dims: dims)
    let sigmaName = floatConstant("\(name)/std", sigma, dims: dims)
    let y: String
    if s.invert {
      y = op("Add", [op("Mul", [x.name, sigmaName], prefix: name), meanName], prefix: name)
    } else {
      y = op("Div", [op("Sub", [x.name, meanName], prefix: name), sigmaName], prefix: name)
    }
    return ONNXValue(name: y, shape: x.shape, channelsFirst: x.channelsFirst)
  }
}
