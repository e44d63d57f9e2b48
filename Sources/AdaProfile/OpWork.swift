import AdaNN
import AdaTensor

/// The work one layer application does on one example: arithmetic, parameters and bytes. Used
/// to place an op on a device's roofline (compute- or memory-bound), for the GFLOP/s column, for
/// the energy model's bytes moved, and by the memory model (aliasing and workspace).
///
/// Conventions (docs/profiler.md):
/// - `flops` = 2 · MACs for conv/dense, plus one per output element for a bias and for a fused
///   activation; batch-norm 2 per element (scale and shift); activations 1 per element (`relu`,
///   `relu6`, `linear`) or 4 (transcendental ones), softmax 5; pooling one per window element;
///   add/multiply one per output element per extra input; copies (padding, concatenate) 0.
/// - Activations are float32 (4 bytes); weights take `bits / 8` bytes per scalar.
/// - `bytesMoved` = inputs + weights + output + 2 · workspace (written, then read), and 0 for
///   ops that alias their input (input, flatten, reshape, dropout at inference).
public struct OpWork: Codable, Hashable, Sendable {
  /// Multiply–accumulates (the `LayerSpec.cost` convention).
  public var macs: Int
  public var flops: Int
  /// Parameter scalars (trainable and not).
  public var params: Int
  public var weightBytes: Int
  public var inputBytes: Int
  public var outputBytes: Int
  /// Transient buffer the kernel allocates while it runs (im2col columns, the depthwise
  /// intermediate of a separable conv), per example.
  public var workspaceBytes: Int
  /// True when the output shares the input's storage (no new buffer, no data touched).
  public var aliasesInput: Bool

  public init(
    macs: Int, flops: Int, params: Int, weightBytes: Int, inputBytes: Int, outputBytes: Int,
    workspaceBytes: Int = 0, aliasesInput: Bool = false
  ) {
    self.macs = macs
    self.flops = flops
    self.params = params
    self.weightBytes = weightBytes
    self.inputBytes = inputBytes
    self.outputBytes = outputBytes
    self.workspaceBytes = workspaceBytes
    self.aliasesInput = aliasesInput
  }

  public var bytesMoved: Int {
    aliasesInput ? 0 : inputBytes + weightBytes + outputBytes + 2 * workspaceBytes
  }

  /// FLOPs per byte moved; 0 for ops that move nothing.
  public var arithmeticIntensity: Double {
    bytesMoved == 0 ? 0 : Double(flops) / Double(bytesMoved)
  }

  public init(spec: LayerSpec, inputShapes: [[Int]], outputShape: [Int], bits: Int = 32) {
    let out = outputShape.elementCount
    let inputs = inputShapes.map(\.elementCount)
    let cost = spec.cost(inputShapes: spec.isInput ? [] : inputShapes, outputShape: outputShape)
    var flops = 2 * cost.macs
    var workspace = 0
    var aliases = false
    let outPixels = outputShape.dropLast().elementCount
    let inChannels = inputShapes.first?.last ?? 0
    switch spec {
    case .conv2D(let s):
      flops += out * ((s.useBias ? 1 : 0) + Self.activationFlops(s.activation))
      let pointwise = s.kernel == .square(1) && s.strides == .square(1)
      workspace = pointwise ? 0 : outPixels * s.kernel.h * s.kernel.w * inChannels * 4
    case .depthwiseConv2D(let s):
      flops += out * ((s.useBias ? 1 : 0) + Self.activationFlops(s.activation))
    case .separableConv2D(let s):
      flops += out * ((s.useBias ? 1 : 0) + Self.activationFlops(s.activation))
      workspace = outPixels * inChannels * s.depthMultiplier * 4
    case .dense(let s):
      flops += out * ((s.useBias ? 1 : 0) + Self.activationFlops(s.activation))
    case .batchNorm: flops = 2 * out
    case .activation(let a):
      flops = out * Self.activationFlops(a)
      aliases = a == .linear
    case .relu: flops = out
    case .softmax: flops = 5 * out
    case .pool2D(let s): flops = out * s.pool.h * s.pool.w
    case .globalPool2D: flops = inputs.first ?? 0
    case .add, .multiply: flops = out * max(inputs.count - 1, 0)
    case .rescaling, .normalization: flops = 2 * out
    case .input, .flatten, .reshape, .dropout: aliases = true
    case .zeroPadding2D, .concatenate: flops = 0
    }
    self.init(
      macs: cost.macs, flops: flops, params: cost.params, weightBytes: cost.params * bits / 8,
      inputBytes: inputs.reduce(0, +) * 4, outputBytes: out * 4, workspaceBytes: workspace,
      aliasesInput: aliases)
  }

  /// FLOPs per element of an activation function.
  static func activationFlops(_ a: Activation) -> Int {
    switch a {
    case .linear: 0
    case .relu, .relu6: 1
    case .softmax: 5
    default: 4
    }
  }
}
