import AdaTensor

/// A layer's behaviour: shape contract, parameters, forward and backward.
///
/// Each conforming type lives in its own file, in that order (style.md §1). Shapes passed to
/// `outputShape` and `parameters` exclude the batch; tensors passed to `forward`/`backward`
/// include it (`[N, H, W, C]` for images, `[N, F]` for features).
///
/// Backward contract:
/// - it reuses what forward saved in `Cache` (never recomputes the forward pass);
/// - it **adds** into `paramGrads` (same order and shapes as `parameters(for:)`);
/// - it returns one gradient per input, shaped like that input.
public protocol Layer: Sendable {
  /// What forward saves for backward. `Void`-like layers use `EmptyCache`.
  associatedtype Cache = EmptyCache

  /// Output shape for the given input shapes (batch excluded); throws `.badShape` with a sentence.
  func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int]

  /// The parameters this layer owns, in a fixed order, for the given input shapes.
  func parameters(for inputs: [[Int]]) -> [ParameterSpec]

  /// Runs the layer on a batch. `params` is in `parameters(for:)` order; layers with running
  /// statistics (batch-norm) update their non-trainable entries in training mode.
  func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext) -> (
    Tensor, Cache
  )

  /// Gradients w.r.t. the inputs, adding parameter gradients into `paramGrads`.
  func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor]
}

/// For layers whose backward needs nothing beyond the gradient.
public struct EmptyCache: Sendable {
  public init() {}
}

/// Run-time state for one forward pass.
public struct ForwardContext: Sendable {
  /// Training mode: batch-norm uses batch statistics and updates moving averages; dropout is active.
  public var training: Bool
  /// Whether the caller will run backward; layers skip saving caches otherwise.
  public var needsBackward: Bool
  /// Set by the executor per node: false when every input of the layer is the graph input, so
  /// backward may skip computing input gradients (returning an empty tensor `Tensor(shape: [])`).
  public var inputsNeedGradient: Bool = true
  /// Set by the caller: keep the gradient w.r.t. the model input (adversarial inputs, saliency,
  /// gradient tests). Off by default, so the first layer skips computing it.
  public var needsModelInputGradient: Bool = false
  /// Source of dropout masks and any other randomness.
  public var rng: SeededGenerator

  public init(training: Bool = false, needsBackward: Bool = false, seed: UInt64 = 0) {
    self.training = training
    self.needsBackward = needsBackward
    self.rng = SeededGenerator(seed: seed)
  }

  public static let inference = ForwardContext()
}

/// How a parameter is initialised when a model is built from scratch.
public enum Initializer: String, Codable, Hashable, Sendable {
  case zeros, ones, glorotUniform, heNormal
}

/// One parameter a layer owns.
public struct ParameterSpec: Codable, Hashable, Sendable {
  /// Short name, unique within the layer: `kernel`, `bias`, `gamma`, `beta`, `movingMean`, …
  public var name: String
  public var shape: [Int]
  /// Non-trainable parameters (moving statistics) get no optimizer updates.
  public var trainable: Bool
  public var initializer: Initializer

  public init(name: String, shape: [Int], trainable: Bool = true, initializer: Initializer) {
    self.name = name
    self.shape = shape
    self.trainable = trainable
    self.initializer = initializer
  }

  /// Fresh values, seeded. Glorot/He use the first dims as fan-in as Keras does.
  public func initialValue(using g: inout SeededGenerator) -> Tensor {
    switch initializer {
    case .zeros: return Tensor(shape: shape)
    case .ones: return Tensor(shape: shape, repeating: 1)
    case .glorotUniform:
      let (fanIn, fanOut) = fans
      let limit = (6 / Float(fanIn + fanOut)).squareRoot()
      return .uniform(shape, lo: -limit, hi: limit, using: &g)
    case .heNormal:
      return .normal(shape, std: (2 / Float(fans.0)).squareRoot(), using: &g)
    }
  }

  /// (fan-in, fan-out) following Keras: for kernels `[…receptive, in, out]`.
  var fans: (Int, Int) {
    if shape.count < 2 { return (max(shape.first ?? 1, 1), max(shape.first ?? 1, 1)) }
    let receptive = shape.dropLast(2).elementCount
    return (shape[shape.count - 2] * receptive, shape[shape.count - 1] * receptive)
  }
}

extension LayerSpec {
  /// The implementation of this spec.
  public func makeLayer() -> any Layer {
    switch self {
    case .input: IdentityLayer()
    case .conv2D(let s): Conv2DLayer(spec: s)
    case .depthwiseConv2D(let s): DepthwiseConv2DLayer(spec: s)
    case .separableConv2D(let s): SeparableConv2DLayer(spec: s)
    case .dense(let s): DenseLayer(spec: s)
    case .batchNorm(let s): BatchNormLayer(spec: s)
    case .activation(let a): ActivationLayer(activation: a)
    case .relu(let s): ReLULayer(spec: s)
    case .softmax: ActivationLayer(activation: .softmax)
    case .pool2D(let s): Pool2DLayer(spec: s)
    case .globalPool2D(let s): GlobalPool2DLayer(spec: s)
    case .flatten: ReshapeLayer(spec: ReshapeSpec(targetShape: [-1]))
    case .reshape(let s): ReshapeLayer(spec: s)
    case .dropout(let s): DropoutLayer(spec: s)
    case .zeroPadding2D(let s): ZeroPadding2DLayer(spec: s)
    case .add: AddLayer()
    case .multiply: MultiplyLayer()
    case .concatenate(let s): ConcatenateLayer(spec: s)
    case .rescaling(let s): RescalingLayer(spec: s)
    case .normalization(let s): NormalizationLayer(spec: s)
    }
  }
}

/// Passes its single input through (the model input node).
public struct IdentityLayer: Layer {
  public init() {}
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] { inputs[0] }
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { [] }
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext)
    -> (Tensor, EmptyCache)
  { (inputs[0], EmptyCache()) }
  public func backward(
    _ gradOutput: Tensor, cache: EmptyCache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] { [gradOutput] }
}
