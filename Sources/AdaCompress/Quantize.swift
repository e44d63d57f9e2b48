import AdaNN
import AdaTensor

/// `quantize:<bits>` — post-training, per-output-channel, symmetric weight quantisation of
/// Conv2D, Dense and DepthwiseConv2D kernels to 8 or 4 bits (biases and batch-norm stay Float32).
///
/// For each selected kernel `W` and output channel `c` (see `QuantizedTensor` for the channel
/// axes): `scale_c = max|W_c| / (2^(b−1) − 1)`, `q = clamp(round(W / scale_c))`. The result's
/// model holds the dequantized weights `q · scale_c` (so it runs on any executor and Keras loads
/// it), and `CompressionResult.quantized` holds the integers and scales, which the Keras writer
/// stores beside the weights. Every element moves by at most half a step (`scale_c / 2`).
/// Parameters and MACs are unchanged; `report.after.weightBytes` counts quantized kernels at
/// `b` bits per value plus 4 bytes per scale.
///
///     let result = try Quantize(bits: 8).apply(to: model, selecting: .all)
///     result.quantized["conv2/kernel"]?.values     // Int8 in −127…127
public struct Quantize: CompressionOperator, Codable, Hashable {
  public static let id = "quantize"
  /// The bit widths adascale quantizes to.
  public static let supportedBits = [8, 4]

  /// 8 or 4.
  public var bits: Int

  public init(bits: Int = 8) {
    self.bits = bits
  }

  public var description: String { "\(Self.id):\(bits)" }

  /// Layers with a kernel: Conv2D, Dense, DepthwiseConv2D.
  public func isEligible(_ node: Node, in model: Model) -> Bool {
    QuantizedTensor.channelAxis(of: node.spec, weight: "kernel") != nil
  }

  public func ineligibilityReason(_ node: Node, in model: Model) -> String? {
    isEligible(node, in: model) ? nil : "only Conv2D, Dense and DepthwiseConv2D kernels are quantized"
  }

  public func apply(to model: Model, selecting selection: LayerSelection) throws(AdaError)
    -> CompressionResult
  {
    guard Self.supportedBits.contains(bits) else {
      throw AdaError(.invalidValue, path: "\(Self.id).bits", "expected 8 or 4, found \(bits)")
    }
    let selected = try selectedNodes(in: model, selection).map { model.graph.node(named: $0)! }
    var rewriter = GraphRewriter(model)
    var table: QuantizedWeights = [:]
    for node in selected {
      let axis = QuantizedTensor.channelAxis(of: node.spec, weight: "kernel")!
      guard let kernel = model.parameters[node.name, "kernel"] else {
        throw AdaError(.missing, path: "\(node.name)/kernel", "weight is missing")
      }
      let q = QuantizedTensor(quantizing: kernel, bits: bits, axis: axis)
      rewriter.setParameter(node.name, "kernel", q.dequantized())
      table[Parameters.key(node.name, "kernel")] = q
    }
    var result = try rewriter.result(operation: description)
    result.quantized = table
    result.report.after.weightBytes = result.model.weightBytes(quantized: table)
    return result
  }
}
