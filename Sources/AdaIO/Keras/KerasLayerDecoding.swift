import AdaNN
import AdaTensor

/// Keras layer class + config → `LayerSpec`. The class map (Keras 2 aliases included):
///
/// | Keras class | LayerSpec |
/// |---|---|
/// | InputLayer | `.input` (`batch_shape` in Keras 3, `batch_input_shape` in Keras 2) |
/// | Conv2D / Convolution2D | `.conv2D` (groups = 1, channels_last) |
/// | DepthwiseConv2D | `.depthwiseConv2D` |
/// | SeparableConv2D / SeparableConvolution2D | `.separableConv2D` |
/// | Dense | `.dense` |
/// | BatchNormalization | `.batchNorm` (axis −1 or 3) |
/// | Activation | `.activation` |
/// | ReLU, LeakyReLU | `.relu` |
/// | Softmax | `.softmax` (axis −1) |
/// | MaxPooling2D / MaxPool2D, AveragePooling2D / AvgPool2D | `.pool2D` |
/// | GlobalAveragePooling2D / GlobalAvgPool2D, GlobalMaxPooling2D / GlobalMaxPool2D | `.globalPool2D` |
/// | Flatten, Reshape, Dropout, ZeroPadding2D, Add, Multiply, Concatenate, Rescaling, Normalization | same-named case |
enum KerasLayerDecoding {
  /// Classes that are whole models. `KerasLayerParser` flattens a model used as a layer before
  /// decoding; `spec(for:)` itself only decodes single layers and names a model class if given one.
  static let modelClasses: Set<String> = ["Sequential", "Functional", "Model"]

  /// The spec for one layer. Unknown classes and unsupported options are `.unsupported` errors
  /// whose path is the layer name.
  static func spec(for c: KerasLayerConfig) throws(AdaError) -> LayerSpec {
    switch c.className {
    case "InputLayer":
      return .input(try inputSpec(c))
    case "Conv2D", "Convolution2D":
      try c.requireChannelsLast()
      let groups = try c.int("groups", default: 1)
      guard groups == 1 else { throw c.unsupported("groups", "\(groups)", "grouped convolution") }
      return .conv2D(
        Conv2DSpec(
          filters: try c.int("filters"), kernel: try c.size2("kernel_size"),
          strides: try c.size2("strides", default: .square(1)), padding: try c.padding(),
          dilation: try c.size2("dilation_rate", default: .square(1)),
          useBias: try c.bool("use_bias", default: true), activation: try c.activation()))
    case "DepthwiseConv2D":
      try c.requireChannelsLast()
      return .depthwiseConv2D(
        DepthwiseConv2DSpec(
          kernel: try c.size2("kernel_size"), strides: try c.size2("strides", default: .square(1)),
          padding: try c.padding(), dilation: try c.size2("dilation_rate", default: .square(1)),
          depthMultiplier: try c.int("depth_multiplier", default: 1),
          useBias: try c.bool("use_bias", default: true), activation: try c.activation()))
    case "SeparableConv2D", "SeparableConvolution2D":
      try c.requireChannelsLast()
      return .separableConv2D(
        SeparableConv2DSpec(
          filters: try c.int("filters"), kernel: try c.size2("kernel_size"),
          strides: try c.size2("strides", default: .square(1)), padding: try c.padding(),
          dilation: try c.size2("dilation_rate", default: .square(1)),
          depthMultiplier: try c.int("depth_multiplier", default: 1),
          useBias: try c.bool("use_bias", default: true), activation: try c.activation()))
    case "Dense":
      if let rank = c.value("lora_rank"), rank != .number(0) {
        throw c.unsupported("lora_rank", rank.text)
      }
      if let q = c.value("quantization_config") { throw c.unsupported("quantization_config", q.text) }
      return .dense(
        DenseSpec(
          units: try c.int("units"), useBias: try c.bool("use_bias", default: true),
          activation: try c.activation()))
    case "BatchNormalization", "BatchNormalizationV1", "BatchNormalizationV2":
      let axis = try c.int("axis", default: -1)
      guard axis == -1 || axis == 3 else {
        throw c.unsupported("axis", "\(axis)", "batch-norm must normalise the last (channel) axis")
      }
      if try c.bool("renorm", default: false) { throw c.unsupported("renorm", "true") }
      return .batchNorm(
        BatchNormSpec(
          epsilon: try c.float("epsilon", default: 1e-3), momentum: try c.float("momentum", default: 0.99),
          center: try c.bool("center", default: true), scale: try c.bool("scale", default: true)))
    case "Activation":
      return .activation(try c.activation())
    case "ReLU":
      return .relu(
        ReLUSpec(
          maxValue: try c.optionalFloat("max_value"),
          negativeSlope: try c.float("negative_slope", default: 0),
          threshold: try c.float("threshold", default: 0)))
    case "LeakyReLU":
      let slope = try c.optionalFloat("negative_slope")
      let alpha = try c.optionalFloat("alpha")  // Keras 2's name
      return .relu(ReLUSpec(negativeSlope: slope ?? alpha ?? 0.3))
    case "Softmax":
      let axis = try c.int("axis", default: -1)
      guard axis == -1 else { throw c.unsupported("axis", "\(axis)", "softmax over the last axis only") }
      return .softmax(SoftmaxSpec())
    case "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D":
      try c.requireChannelsLast()
      let pool = try c.size2("pool_size", default: .square(2))
      return .pool2D(
        Pool2DSpec(
          kind: c.className.hasPrefix("Max") ? .max : .average, pool: pool,
          strides: try c.size2("strides", default: pool), padding: try c.padding()))
    case "GlobalAveragePooling2D", "GlobalAvgPool2D", "GlobalMaxPooling2D", "GlobalMaxPool2D":
      try c.requireChannelsLast()
      return .globalPool2D(
        GlobalPool2DSpec(
          kind: c.className.hasPrefix("GlobalMax") ? .max : .average,
          keepDims: try c.bool("keepdims", default: false)))
    case "Flatten":
      try c.requireChannelsLast()
      return .flatten
    case "Reshape":
      return .reshape(ReshapeSpec(targetShape: try c.intList("target_shape")))
    case "Dropout":
      return .dropout(DropoutSpec(rate: try c.float("rate"), noiseShape: try noiseShape(c)))
    case "ZeroPadding2D":
      try c.requireChannelsLast()
      return .zeroPadding2D(try zeroPadding(c))
    case "Add":
      return .add
    case "Multiply":
      return .multiply
    case "Concatenate":
      // Keras counts axes with the batch (axis 1 = H); adascale counts per example (H = 0).
      let axis = try c.int("axis", default: -1)
      guard axis != 0 else { throw c.unsupported("axis", "0", "concatenation along the batch") }
      return .concatenate(ConcatenateSpec(axis: axis > 0 ? axis - 1 : axis))
    case "Rescaling":
      let scale = try factors(c, "scale", default: 1)
      let offset = try factors(c, "offset", default: 0)
      return .rescaling(
        RescalingSpec(
          scale: scale.count == 1 ? scale[0] : 1, offset: offset.count == 1 ? offset[0] : 0,
          channelScales: scale.count == 1 ? nil : scale, channelOffsets: offset.count == 1 ? nil : offset))
    case "Normalization":
      let axis = c.value("axis")
      let axes = axis?.int.map { [$0] } ?? axis?.array?.compactMap(\.int) ?? []
      // 3 is the channel axis of NHWC images (EfficientNet's `bn_axis`).
      guard axes == [-1] || axes == [3] else {
        throw c.unsupported(
          "axis", axis?.text ?? "null", "normalization over the last (channel) axis only")
      }
      return .normalization(NormalizationSpec(invert: try c.bool("invert", default: false)))
    default:
      if modelClasses.contains(c.className) {
        throw c.error(
          .unsupported,
          "layer '\(c.name)' is a nested model (class \(c.className)), which adascale does not "
            + "support; flatten it into one model before saving")
      }
      throw c.error(
        .unsupported, "layer '\(c.name)' has class \(c.className), which adascale does not support")
    }
  }

  /// `batch_shape` (Keras 3) or `batch_input_shape` (Keras 2), batch dimension dropped.
  static func inputSpec(_ c: KerasLayerConfig) throws(AdaError) -> InputSpec {
    let key = c.value("batch_shape") != nil ? "batch_shape" : "batch_input_shape"
    guard c.value(key) != nil else {
      throw c.error(.missing, "input layer '\(c.name)' has no batch_shape / batch_input_shape")
    }
    let dims = try c.intList(key).dropFirst()
    guard !dims.isEmpty, dims.allSatisfy({ $0 > 0 }) else {
      let shown = dims.map { $0 < 0 ? "None" : "\($0)" }.joined(separator: ", ")
      throw c.error(
        .unsupported,
        "input layer '\(c.name)' has shape [\(shown)]; adascale needs every dimension but the batch fixed")
    }
    return InputSpec(shape: Array(dims))
  }

  /// A Normalization's `mean` / `variance` given in its config (then Keras stores no weights):
  /// one value, or one per channel; nil when the statistics are weights.
  static func normalizationStatistics(_ c: KerasLayerConfig) throws(AdaError)
    -> (mean: [Float], variance: [Float])?
  {
    guard c.className == "Normalization", c.value("mean") != nil || c.value("variance") != nil else {
      return nil
    }
    let mean = try factors(c, "mean", default: 0)
    let variance = try factors(c, "variance", default: 1)
    guard mean.count == variance.count else {
      throw c.error(
        .invalidValue,
        "layer '\(c.name)' (Normalization): mean has \(mean.count) values, variance \(variance.count)")
    }
    return (mean, variance)
  }

  /// Dropout's `noise_shape` (batch included, `None` → −1) without the batch; nil when absent.
  static func noiseShape(_ c: KerasLayerConfig) throws(AdaError) -> [Int]? {
    guard c.value("noise_shape") != nil else { return nil }
    let dims = try c.intList("noise_shape")
    guard dims.first.map({ $0 < 0 }) == true else {
      throw c.unsupported(
        "noise_shape", c.config["noise_shape"]?.text ?? "?", "the batch entry must be None")
    }
    return Array(dims.dropFirst())
  }

  /// Rescaling's `scale` / `offset`: a number, a list (one per channel), or Keras's
  /// `{"class_name": "__numpy__", "config": {"value": …}}` form of a numpy array.
  static func factors(_ c: KerasLayerConfig, _ key: String, default fallback: Float) throws(AdaError)
    -> [Float]
  {
    guard var v = c.value(key) else { return [fallback] }
    if let inner = v["config"]?["value"] { v = inner }
    if let x = v.double { return [Float(x)] }
    if let list = v.array, !list.isEmpty, list.allSatisfy({ $0.double != nil }) {
      return list.map { Float($0.double!) }
    }
    throw c.error(
      .invalidValue,
      "layer '\(c.name)' (\(c.className)): \(key) should be a number or a list of numbers, found \(v.text)")
  }

  /// `padding`: `n`, `[h, w]` (symmetric), or `[[top, bottom], [left, right]]`.
  static func zeroPadding(_ c: KerasLayerConfig) throws(AdaError) -> ZeroPadding2DSpec {
    let v = c.value("padding") ?? .int(1)
    if let n = v.int { return ZeroPadding2DSpec(top: n, bottom: n, left: n, right: n) }
    if let pair = v.array, pair.count == 2 {
      if let h = pair[0].int, let w = pair[1].int {
        return ZeroPadding2DSpec(top: h, bottom: h, left: w, right: w)
      }
      if let hs = pair[0].array?.compactMap(\.int), let ws = pair[1].array?.compactMap(\.int),
        hs.count == 2, ws.count == 2
      {
        return ZeroPadding2DSpec(top: hs[0], bottom: hs[1], left: ws[0], right: ws[1])
      }
    }
    throw c.error(
      .invalidValue,
      "layer '\(c.name)' (ZeroPadding2D): padding \(v.text) is not n, [h, w] or [[t, b], [l, r]]")
  }
}
