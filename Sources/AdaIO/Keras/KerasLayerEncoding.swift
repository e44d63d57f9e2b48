import AdaNN
import AdaTensor

/// `LayerSpec` → Keras 3 class name and layer config: the reverse of `KerasLayerDecoding`, so
/// that a model read and written back has the same classes and options. Options adascale does
/// not model are left out and take Keras's defaults.
enum KerasLayerEncoding {
  /// Keras class name and the class-specific config entries (without name/trainable/dtype).
  static func encode(_ spec: LayerSpec) -> (className: String, options: [JSONValue.Member]) {
    func m(_ pairs: KeyValuePairs<String, JSONValue>) -> [JSONValue.Member] {
      pairs.map { JSONValue.Member($0.key, $0.value) }
    }
    func pair(_ s: Size2) -> JSONValue { .ints([s.h, s.w]) }
    func act(_ a: Activation) -> JSONValue { .string(KerasActivation.kerasName(a)) }
    let channelsLast = JSONValue.string("channels_last")

    switch spec {
    case .input(let s):
      return (
        "InputLayer", m(["batch_shape": .array([.null] + s.shape.map { .int($0) }), "sparse": .bool(false)])
      )
    case .conv2D(let s):
      return (
        "Conv2D",
        m([
          "filters": .int(s.filters), "kernel_size": pair(s.kernel), "strides": pair(s.strides),
          "padding": .string(s.padding.rawValue), "data_format": channelsLast,
          "dilation_rate": pair(s.dilation), "groups": .int(1), "activation": act(s.activation),
          "use_bias": .bool(s.useBias),
        ])
      )
    case .depthwiseConv2D(let s):
      return (
        "DepthwiseConv2D",
        m([
          "kernel_size": pair(s.kernel), "strides": pair(s.strides), "padding": .string(s.padding.rawValue),
          "depth_multiplier": .int(s.depthMultiplier), "data_format": channelsLast,
          "dilation_rate": pair(s.dilation), "activation": act(s.activation), "use_bias": .bool(s.useBias),
        ])
      )
    case .separableConv2D(let s):
      return (
        "SeparableConv2D",
        m([
          "filters": .int(s.filters), "kernel_size": pair(s.kernel), "strides": pair(s.strides),
          "padding": .string(s.padding.rawValue), "data_format": channelsLast,
          "dilation_rate": pair(s.dilation), "depth_multiplier": .int(s.depthMultiplier),
          "activation": act(s.activation), "use_bias": .bool(s.useBias),
        ])
      )
    case .dense(let s):
      return (
        "Dense", m(["units": .int(s.units), "activation": act(s.activation), "use_bias": .bool(s.useBias)])
      )
    case .batchNorm(let s):
      return (
        "BatchNormalization",
        m([
          "axis": .int(-1), "momentum": .decimal(s.momentum), "epsilon": .decimal(s.epsilon),
          "center": .bool(s.center), "scale": .bool(s.scale),
        ])
      )
    case .activation(let a):
      return ("Activation", m(["activation": act(a)]))
    case .relu(let s):
      return (
        "ReLU",
        m([
          "max_value": s.maxValue.map { .decimal($0) } ?? .null, "negative_slope": .decimal(s.negativeSlope),
          "threshold": .decimal(s.threshold),
        ])
      )
    case .softmax:
      return ("Softmax", m(["axis": .int(-1)]))
    case .pool2D(let s):
      return (
        s.kind == .max ? "MaxPooling2D" : "AveragePooling2D",
        m([
          "pool_size": pair(s.pool), "padding": .string(s.padding.rawValue), "strides": pair(s.strides),
          "data_format": channelsLast,
        ])
      )
    case .globalPool2D(let s):
      return (
        s.kind == .max ? "GlobalMaxPooling2D" : "GlobalAveragePooling2D",
        m(["data_format": channelsLast, "keepdims": .bool(s.keepDims)])
      )
    case .flatten:
      return ("Flatten", m(["data_format": channelsLast]))
    case .reshape(let s):
      return ("Reshape", m(["target_shape": .ints(s.targetShape)]))
    case .dropout(let s):
      // Keras's noise_shape counts the batch (None); adascale's −1 is Keras's None.
      let noise: JSONValue =
        s.noiseShape.map { .array([.null] + $0.map { $0 < 0 ? .null : .int($0) }) } ?? .null
      return ("Dropout", m(["rate": .decimal(s.rate), "noise_shape": noise]))
    case .zeroPadding2D(let s):
      return (
        "ZeroPadding2D",
        m([
          "padding": .array([.ints([s.top, s.bottom]), .ints([s.left, s.right])]),
          "data_format": channelsLast,
        ])
      )
    case .add:
      return ("Add", [])
    case .multiply:
      return ("Multiply", [])
    case .concatenate(let s):
      // adascale counts axes per example, Keras with the batch.
      return ("Concatenate", m(["axis": .int(s.axis >= 0 ? s.axis + 1 : s.axis)]))
    case .rescaling(let s):
      let scale: JSONValue = s.channelScales.map { .array($0.map { .decimal($0) }) } ?? .decimal(s.scale)
      let offset: JSONValue = s.channelOffsets.map { .array($0.map { .decimal($0) }) } ?? .decimal(s.offset)
      return ("Rescaling", m(["scale": scale, "offset": offset]))
    case .normalization(let s):
      // Statistics travel as weights (mean, variance, count), so the config holds none.
      return (
        "Normalization",
        m(["axis": .ints([-1]), "invert": .bool(s.invert), "mean": .null, "variance": .null])
      )
    }
  }

  /// Whether Keras calls the layer with a list of tensors (`Add()([a, b])`).
  static func takesList(_ spec: LayerSpec) -> Bool {
    switch spec {
    case .add, .multiply, .concatenate: true
    default: false
    }
  }
}
