import AdaNN
import AdaTensor

/// What determines one layer application's latency: kind, shapes (batch excluded), window
/// geometry, fused activation and weight bit width. Two nodes with the same signature cost the
/// same, so the latency table is keyed by `key`, the canonical string form:
///
///     conv2d|in=28x28x1|out=28x28x32|k=3x3|s=1x1|p=same|d=1x1|act=relu|b=32
///     depthwise-conv2d|in=8x8x8|out=4x4x8|k=3x3|s=2x2|p=valid|d=1x1|g=8|m=1|b=32
///     add|in=8x8x4+8x8x4|out=8x8x4|b=32
///
/// Fields that do not apply to a kind are absent (nil) and left out of the key. Multiple inputs
/// are joined with `+`. `act` is written only for a fused activation other than `linear` and for
/// activation layers. Probes run float32 kernels whatever `bits` says: `bits` changes the key,
/// the weight bytes and the bytes moved (see docs/profiler.md).
public struct OpSignature: Codable, Hashable, Sendable, CustomStringConvertible {
  /// `LayerSpec.kindName`, e.g. `conv2d`, `max-pool2d`.
  public var kind: String
  /// Per-example input shapes, in argument order.
  public var inputs: [[Int]]
  /// Per-example output shape.
  public var output: [Int]
  public var kernel: Size2?
  public var stride: Size2?
  public var padding: Padding?
  public var dilation: Size2?
  /// Channel groups of a depthwise convolution (= input channels).
  public var groups: Int?
  /// Depth multiplier of depthwise and separable convolutions.
  public var multiplier: Int?
  /// Fused activation (conv/dense) or the function of an activation layer.
  public var activation: String?
  /// Weight bit width (32 = float32).
  public var bits: Int

  public init(
    kind: String, inputs: [[Int]], output: [Int], kernel: Size2? = nil, stride: Size2? = nil,
    padding: Padding? = nil, dilation: Size2? = nil, groups: Int? = nil, multiplier: Int? = nil,
    activation: String? = nil, bits: Int = 32
  ) {
    self.kind = kind
    self.inputs = inputs
    self.output = output
    self.kernel = kernel
    self.stride = stride
    self.padding = padding
    self.dilation = dilation
    self.groups = groups
    self.multiplier = multiplier
    self.activation = activation
    self.bits = bits
  }

  /// The signature of `spec` applied to `inputShapes` (batch excluded), producing `outputShape`.
  public init(spec: LayerSpec, inputShapes: [[Int]], outputShape: [Int], bits: Int = 32) {
    self.init(kind: spec.kindName, inputs: inputShapes, output: outputShape, bits: bits)
    let channels = inputShapes.first?.last
    switch spec {
    case .conv2D(let s):
      (kernel, stride, padding, dilation) = (s.kernel, s.strides, s.padding, s.dilation)
      activation = Self.fused(s.activation)
    case .depthwiseConv2D(let s):
      (kernel, stride, padding, dilation) = (s.kernel, s.strides, s.padding, s.dilation)
      (groups, multiplier, activation) = (channels, s.depthMultiplier, Self.fused(s.activation))
    case .separableConv2D(let s):
      (kernel, stride, padding, dilation) = (s.kernel, s.strides, s.padding, s.dilation)
      (groups, multiplier, activation) = (channels, s.depthMultiplier, Self.fused(s.activation))
    case .dense(let s):
      activation = Self.fused(s.activation)
    case .pool2D(let s):
      (kernel, stride, padding) = (s.pool, s.strides, s.padding)
    case .activation(let a):
      activation = a.rawValue
    case .relu(let s):
      activation = s.maxValue == 6 && s.negativeSlope == 0 && s.threshold == 0 ? "relu6" : "relu"
    case .softmax:
      activation = Activation.softmax.rawValue
    default:
      break
    }
  }

  private static func fused(_ a: Activation) -> String? { a == .linear ? nil : a.rawValue }

  /// Canonical string form; stable across runs and releases (it keys caches and tables).
  public var key: String {
    func dims(_ s: [Int]) -> String { s.map(String.init).joined(separator: "x") }
    var parts = [kind, "in=" + inputs.map(dims).joined(separator: "+"), "out=" + dims(output)]
    if let kernel { parts.append("k=\(kernel)") }
    if let stride { parts.append("s=\(stride)") }
    if let padding { parts.append("p=\(padding.rawValue)") }
    if let dilation { parts.append("d=\(dilation)") }
    if let groups { parts.append("g=\(groups)") }
    if let multiplier { parts.append("m=\(multiplier)") }
    if let activation { parts.append("act=\(activation)") }
    parts.append("b=\(bits)")
    return parts.joined(separator: "|")
  }

  public var description: String { key }
}

/// One node of a graph as the profiler sees it: its signature, its work, and what is needed to
/// run it alone (spec and input shapes).
public struct GraphOp: Sendable {
  /// Node name in the graph.
  public var node: String
  public var spec: LayerSpec
  public var inputShapes: [[Int]]
  public var signature: OpSignature
  public var work: OpWork

  /// Parameter tensors the node owns (the executor gathers each one per call).
  public var parameterTensors: Int {
    spec.isInput ? 0 : spec.makeLayer().parameters(for: inputShapes).count
  }
}

extension Graph {
  /// Every node in execution order with its signature and work. `bits` maps node names to
  /// weight bit widths; nodes not listed use `defaultBits`.
  public func profiledOps(bits: [String: Int] = [:], defaultBits: Int = 32) throws(AdaError)
    -> [GraphOp]
  {
    let shapes = try inferShapes()
    return nodes.map { node in
      let inShapes = node.spec.isInput ? [shapes[node.name]!] : node.inputs.map { shapes[$0]! }
      let out = shapes[node.name]!
      let b = bits[node.name] ?? defaultBits
      let signature = OpSignature(spec: node.spec, inputShapes: inShapes, outputShape: out, bits: b)
      let work = OpWork(spec: node.spec, inputShapes: inShapes, outputShape: out, bits: b)
      return GraphOp(
        node: node.name, spec: node.spec, inputShapes: inShapes, signature: signature, work: work)
    }
  }
}
