import AdaTensor

/// What a layer is, as data: kind and hyper-parameters, no weights.
///
/// Specs are `Codable` and `Hashable`; `kindName` is the stable kebab-case id used in
/// reports, op signatures and error messages. Shapes in specs never include the batch.
/// Keras class names appear only in the Keras reader and writer (AdaIO).
public enum LayerSpec: Codable, Hashable, Sendable {
  case input(InputSpec)
  case conv2D(Conv2DSpec)
  case depthwiseConv2D(DepthwiseConv2DSpec)
  case separableConv2D(SeparableConv2DSpec)
  case dense(DenseSpec)
  case batchNorm(BatchNormSpec)
  case activation(Activation)
  case relu(ReLUSpec)
  case softmax(SoftmaxSpec)
  case pool2D(Pool2DSpec)
  case globalPool2D(GlobalPool2DSpec)
  case flatten
  case reshape(ReshapeSpec)
  case dropout(DropoutSpec)
  case zeroPadding2D(ZeroPadding2DSpec)
  case add
  case multiply
  case concatenate(ConcatenateSpec)
  case rescaling(RescalingSpec)
  case normalization(NormalizationSpec)

  /// Stable kebab-case id of the layer kind.
  public var kindName: String {
    switch self {
    case .input: "input"
    case .conv2D: "conv2d"
    case .depthwiseConv2D: "depthwise-conv2d"
    case .separableConv2D: "separable-conv2d"
    case .dense: "dense"
    case .batchNorm: "batch-norm"
    case .activation: "activation"
    case .relu: "relu"
    case .softmax: "softmax"
    case .pool2D(let p): p.kind == .max ? "max-pool2d" : "avg-pool2d"
    case .globalPool2D(let p): p.kind == .max ? "global-max-pool2d" : "global-avg-pool2d"
    case .flatten: "flatten"
    case .reshape: "reshape"
    case .dropout: "dropout"
    case .zeroPadding2D: "zero-padding2d"
    case .add: "add"
    case .multiply: "multiply"
    case .concatenate: "concatenate"
    case .rescaling: "rescaling"
    case .normalization: "normalization"
    }
  }
}

/// Spatial padding mode, as in Keras: `valid` (none) or `same` (output = ceil(input / stride)).
public enum Padding: String, Codable, Hashable, Sendable {
  case valid, same
}

/// A pair of spatial sizes (height, width).
public struct Size2: Codable, Hashable, Sendable, CustomStringConvertible {
  public var h: Int
  public var w: Int
  public init(_ h: Int, _ w: Int) {
    self.h = h
    self.w = w
  }
  public static func square(_ n: Int) -> Size2 { Size2(n, n) }
  public var description: String { "\(h)x\(w)" }
}

public struct InputSpec: Codable, Hashable, Sendable {
  /// Shape of one example, e.g. `[28, 28, 1]`.
  public var shape: [Int]
  public init(shape: [Int]) { self.shape = shape }
}

public struct Conv2DSpec: Codable, Hashable, Sendable {
  public var filters: Int
  public var kernel: Size2
  public var strides: Size2 = .square(1)
  public var padding: Padding = .valid
  public var dilation: Size2 = .square(1)
  public var useBias: Bool = true
  public var activation: Activation = .linear
  public init(
    filters: Int, kernel: Size2, strides: Size2 = .square(1), padding: Padding = .valid,
    dilation: Size2 = .square(1), useBias: Bool = true, activation: Activation = .linear
  ) {
    self.filters = filters
    self.kernel = kernel
    self.strides = strides
    self.padding = padding
    self.dilation = dilation
    self.useBias = useBias
    self.activation = activation
  }
}

public struct DepthwiseConv2DSpec: Codable, Hashable, Sendable {
  public var kernel: Size2
  public var strides: Size2 = .square(1)
  public var padding: Padding = .valid
  public var dilation: Size2 = .square(1)
  public var depthMultiplier: Int = 1
  public var useBias: Bool = true
  public var activation: Activation = .linear
  public init(
    kernel: Size2, strides: Size2 = .square(1), padding: Padding = .valid,
    dilation: Size2 = .square(1), depthMultiplier: Int = 1, useBias: Bool = true,
    activation: Activation = .linear
  ) {
    self.kernel = kernel
    self.strides = strides
    self.padding = padding
    self.dilation = dilation
    self.depthMultiplier = depthMultiplier
    self.useBias = useBias
    self.activation = activation
  }
}

/// Depthwise `kernel` conv with `depthMultiplier`, then a 1×1 conv to `filters`; one bias, one activation.
public struct SeparableConv2DSpec: Codable, Hashable, Sendable {
  public var filters: Int
  public var kernel: Size2
  public var strides: Size2 = .square(1)
  public var padding: Padding = .valid
  public var dilation: Size2 = .square(1)
  public var depthMultiplier: Int = 1
  public var useBias: Bool = true
  public var activation: Activation = .linear
  public init(
    filters: Int, kernel: Size2, strides: Size2 = .square(1), padding: Padding = .valid,
    dilation: Size2 = .square(1), depthMultiplier: Int = 1, useBias: Bool = true,
    activation: Activation = .linear
  ) {
    self.filters = filters
    self.kernel = kernel
    self.strides = strides
    self.padding = padding
    self.dilation = dilation
    self.depthMultiplier = depthMultiplier
    self.useBias = useBias
    self.activation = activation
  }
}

/// Fully connected on the last axis: `[..., in] → [..., units]`.
public struct DenseSpec: Codable, Hashable, Sendable {
  public var units: Int
  public var useBias: Bool = true
  public var activation: Activation = .linear
  public init(units: Int, useBias: Bool = true, activation: Activation = .linear) {
    self.units = units
    self.useBias = useBias
    self.activation = activation
  }
}

/// Batch normalisation over the last (channel) axis.
/// `momentum` follows Keras: `moving = moving · momentum + batch · (1 − momentum)`.
public struct BatchNormSpec: Codable, Hashable, Sendable {
  public var epsilon: Float = 1e-3
  public var momentum: Float = 0.99
  public var center: Bool = true
  public var scale: Bool = true
  public init(epsilon: Float = 1e-3, momentum: Float = 0.99, center: Bool = true, scale: Bool = true) {
    self.epsilon = epsilon
    self.momentum = momentum
    self.center = center
    self.scale = scale
  }
}

/// Keras `ReLU` layer: `max_value` cap, `negative_slope` below `threshold`.
public struct ReLUSpec: Codable, Hashable, Sendable {
  public var maxValue: Float?
  public var negativeSlope: Float = 0
  public var threshold: Float = 0
  public init(maxValue: Float? = nil, negativeSlope: Float = 0, threshold: Float = 0) {
    self.maxValue = maxValue
    self.negativeSlope = negativeSlope
    self.threshold = threshold
  }
}

/// Softmax over the last axis (the only axis adascale supports).
public struct SoftmaxSpec: Codable, Hashable, Sendable {
  public init() {}
}

public enum PoolKind: String, Codable, Hashable, Sendable {
  case max, average
}

public struct Pool2DSpec: Codable, Hashable, Sendable {
  public var kind: PoolKind
  public var pool: Size2
  public var strides: Size2
  public var padding: Padding = .valid
  public init(kind: PoolKind, pool: Size2, strides: Size2? = nil, padding: Padding = .valid) {
    self.kind = kind
    self.pool = pool
    self.strides = strides ?? pool
    self.padding = padding
  }
}

/// Global pooling over H and W: `[N, H, W, C] → [N, C]` (or `[N, 1, 1, C]` with `keepDims`).
public struct GlobalPool2DSpec: Codable, Hashable, Sendable {
  public var kind: PoolKind
  public var keepDims: Bool = false
  public init(kind: PoolKind, keepDims: Bool = false) {
    self.kind = kind
    self.keepDims = keepDims
  }
}

/// Target shape without the batch; at most one `-1`.
public struct ReshapeSpec: Codable, Hashable, Sendable {
  public var targetShape: [Int]
  public init(targetShape: [Int]) { self.targetShape = targetShape }
}

/// Inverted dropout; identity at inference. Masks come from the executor's seeded generator.
///
/// `noiseShape` (per example, like Keras's `noise_shape` without the batch) shares one draw
/// along the axes where it is 1; −1 (Keras `None`) or the axis size draws per element. EfficientNet's
/// stochastic depth is `noiseShape: [1, 1, 1]`: a whole example's residual branch is kept or
/// dropped. `nil` draws per element.
public struct DropoutSpec: Codable, Hashable, Sendable {
  public var rate: Float
  public var noiseShape: [Int]?
  public init(rate: Float, noiseShape: [Int]? = nil) {
    self.rate = rate
    self.noiseShape = noiseShape
  }
}

public struct ZeroPadding2DSpec: Codable, Hashable, Sendable {
  public var top: Int, bottom: Int, left: Int, right: Int
  public init(top: Int, bottom: Int, left: Int, right: Int) {
    self.top = top
    self.bottom = bottom
    self.left = left
    self.right = right
  }
}

/// Concatenation along `axis` of the per-example shape (negative counts from the end; -1 = channels).
public struct ConcatenateSpec: Codable, Hashable, Sendable {
  public var axis: Int = -1
  public init(axis: Int = -1) { self.axis = axis }
}

/// `y = x · scale + offset`, with scalars, or per channel (last axis) when `channelScales` /
/// `channelOffsets` are set (they replace `scale` / `offset`; Keras `Rescaling([s₀, s₁, s₂])`).
public struct RescalingSpec: Codable, Hashable, Sendable {
  public var scale: Float
  public var offset: Float = 0
  public var channelScales: [Float]?
  public var channelOffsets: [Float]?
  public init(scale: Float, offset: Float = 0, channelScales: [Float]? = nil, channelOffsets: [Float]? = nil)
  {
    self.scale = scale
    self.offset = offset
    self.channelScales = channelScales
    self.channelOffsets = channelOffsets
  }

  /// Whether any factor differs per channel.
  public var isPerChannel: Bool { channelScales != nil || channelOffsets != nil }
}

/// Keras `Normalization` over the last axis with stored statistics (parameters `mean`,
/// `variance`, `[C]`, not trainable): `y = (x − mean) / max(√variance, 1e-7)`, or with `invert`
/// `y = mean + x · max(√variance, 1e-7)`.
public struct NormalizationSpec: Codable, Hashable, Sendable {
  public var invert: Bool = false
  public init(invert: Bool = false) { self.invert = invert }

  /// Keras's `backend.epsilon()`, the floor of the standard deviation.
  public static let epsilon: Float = 1e-7
}
