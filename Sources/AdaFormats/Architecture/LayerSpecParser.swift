import AdaNN
import AdaTensor

/// Turns a layer kind and its YAML options into a `LayerSpec`, rejecting unknown options.
enum LayerSpecParser {
  static func parse(kind: String, options o: YAMLValue) throws(AdaError) -> LayerSpec {
    let common: Set<String> = ["name", "inputs"]
    func keys(_ k: Set<String>) throws(AdaError) { try o.checkKeys(common.union(k)) }
    switch kind {
    case "conv2d":
      try keys(["filters", "kernel", "strides", "padding", "dilation", "use-bias", "activation"])
      return .conv2D(
        Conv2DSpec(
          filters: try positive(o["filters"]), kernel: try size(o["kernel"]),
          strides: try size(o["strides"], default: 1), padding: try padding(o["padding"]),
          dilation: try size(o["dilation"], default: 1), useBias: try o["use-bias"].bool(default: true),
          activation: try activation(o["activation"])))
    case "depthwise-conv2d":
      try keys(["kernel", "strides", "padding", "dilation", "multiplier", "use-bias", "activation"])
      return .depthwiseConv2D(
        DepthwiseConv2DSpec(
          kernel: try size(o["kernel"]), strides: try size(o["strides"], default: 1),
          padding: try padding(o["padding"]), dilation: try size(o["dilation"], default: 1),
          depthMultiplier: try positive(o["multiplier"], default: 1),
          useBias: try o["use-bias"].bool(default: true), activation: try activation(o["activation"])))
    case "separable-conv2d":
      try keys([
        "filters", "kernel", "strides", "padding", "dilation", "multiplier", "use-bias", "activation",
      ])
      return .separableConv2D(
        SeparableConv2DSpec(
          filters: try positive(o["filters"]), kernel: try size(o["kernel"]),
          strides: try size(o["strides"], default: 1), padding: try padding(o["padding"]),
          dilation: try size(o["dilation"], default: 1),
          depthMultiplier: try positive(o["multiplier"], default: 1),
          useBias: try o["use-bias"].bool(default: true), activation: try activation(o["activation"])))
    case "dense":
      try keys(["units", "use-bias", "activation"])
      return .dense(
        DenseSpec(
          units: try positive(o["units"]), useBias: try o["use-bias"].bool(default: true),
          activation: try activation(o["activation"])))
    case "batch-norm":
      try keys(["epsilon", "momentum", "center", "scale"])
      return .batchNorm(
        BatchNormSpec(
          epsilon: Float(try o["epsilon"].double(default: 1e-3)),
          momentum: Float(try o["momentum"].double(default: 0.99)),
          center: try o["center"].bool(default: true), scale: try o["scale"].bool(default: true)))
    case "activation":
      try keys(["function"])
      return .activation(try activation(o["function"], required: true))
    case "relu":
      try keys(["max-value", "negative-slope", "threshold"])
      return .relu(
        ReLUSpec(
          maxValue: o["max-value"].exists ? Float(try o["max-value"].double()) : nil,
          negativeSlope: Float(try o["negative-slope"].double(default: 0)),
          threshold: Float(try o["threshold"].double(default: 0))))
    case "softmax":
      try keys([])
      return .softmax(SoftmaxSpec())
    case "max-pool2d", "avg-pool2d":
      try keys(["pool", "strides", "padding"])
      let pool = try size(o["pool"], default: 2)
      return .pool2D(
        Pool2DSpec(
          kind: kind == "max-pool2d" ? .max : .average, pool: pool,
          strides: o["strides"].exists ? try size(o["strides"]) : pool, padding: try padding(o["padding"])))
    case "global-avg-pool2d", "global-max-pool2d":
      try keys(["keep-dims"])
      return .globalPool2D(
        GlobalPool2DSpec(
          kind: kind == "global-max-pool2d" ? .max : .average,
          keepDims: try o["keep-dims"].bool(default: false)))
    case "flatten":
      try keys([])
      return .flatten
    case "reshape":
      try keys(["shape"])
      return .reshape(ReshapeSpec(targetShape: try o["shape"].intArray()))
    case "dropout":
      try keys(["rate"])
      let rate = try o["rate"].double()
      guard rate >= 0 && rate < 1 else {
        throw o["rate"].error("dropout rate must be in [0, 1), found \(rate)")
      }
      return .dropout(DropoutSpec(rate: Float(rate)))
    case "zero-padding2d":
      try keys(["padding"])
      let p = o["padding"].node?.sequence != nil ? try o["padding"].intArray() : [try o["padding"].int()]
      guard p.count == 1 || p.count == 4, p.allSatisfy({ $0 >= 0 }) else {
        throw o["padding"].error("expected n or [top, bottom, left, right], all ≥ 0")
      }
      return .zeroPadding2D(
        p.count == 1
          ? ZeroPadding2DSpec(top: p[0], bottom: p[0], left: p[0], right: p[0])
          : ZeroPadding2DSpec(top: p[0], bottom: p[1], left: p[2], right: p[3]))
    case "add":
      try keys([])
      return .add
    case "multiply":
      try keys([])
      return .multiply
    case "concatenate":
      try keys(["axis"])
      return .concatenate(ConcatenateSpec(axis: try o["axis"].int(default: -1)))
    case "rescaling":
      try keys(["scale", "offset"])
      return .rescaling(
        RescalingSpec(
          scale: Float(try o["scale"].double()), offset: Float(try o["offset"].double(default: 0))))
    case "normalization":
      try keys(["invert"])
      return .normalization(NormalizationSpec(invert: try o["invert"].bool(default: false)))
    case "input":
      throw o.error(
        "the input is declared by the top-level `input:` key, not as a layer", kind: .invalidValue)
    default:
      throw o.error(
        "unknown layer kind '\(kind)'; expected one of: conv2d, depthwise-conv2d, separable-conv2d, dense, "
          + "batch-norm, activation, relu, softmax, max-pool2d, avg-pool2d, global-avg-pool2d, "
          + "global-max-pool2d, flatten, reshape, dropout, zero-padding2d, add, multiply, concatenate, rescaling, "
          + "normalization",
        kind: .unsupported)
    }
  }

  static func positive(_ v: YAMLValue, default d: Int? = nil) throws(AdaError) -> Int {
    let n = try d != nil ? v.int(default: d!) : v.int()
    guard n > 0 else { throw v.error("expected a positive integer, found \(n)") }
    return n
  }

  /// `3` or `[3, 5]`.
  static func size(_ v: YAMLValue, default d: Int? = nil) throws(AdaError) -> Size2 {
    if !v.exists, let d { return .square(d) }
    if v.node?.sequence != nil {
      let a = try v.intArray()
      guard a.count == 2, a.allSatisfy({ $0 > 0 }) else {
        throw v.error("expected n or [h, w] with positive values")
      }
      return Size2(a[0], a[1])
    }
    return .square(try positive(v))
  }

  static func padding(_ v: YAMLValue) throws(AdaError) -> Padding {
    let s = try v.string(default: "valid")
    guard let p = Padding(rawValue: s) else {
      throw v.error("padding must be 'valid' or 'same', found '\(s)'")
    }
    return p
  }

  static func activation(_ v: YAMLValue, required: Bool = false) throws(AdaError) -> Activation {
    let s = required ? try v.string() : try v.string(default: "linear")
    guard let a = Activation(rawValue: s) else {
      throw v.error(
        "unknown activation '\(s)'; expected one of: \(Activation.allCases.map(\.rawValue).joined(separator: ", "))",
        kind: .unsupported)
    }
    return a
  }
}
