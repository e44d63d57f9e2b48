import AdaCompress
import AdaNN
import AdaTensor

/// What the exporter cannot write, checked for every node before anything is built, so an
/// unsupported model gives one clear error and no file (never one that onnxruntime rejects).
///
/// Every `LayerSpec` kind has an operator mapping; what is refused is a combination the
/// mapping does not cover:
/// - a quantized weight other than the kernel of a Conv2D, Dense or DepthwiseConv2D, or one
///   whose scales are not per output channel (ONNX's per-axis `DequantizeLinear` has one scale
///   per index of one axis: a kernel quantized with `axis` before the output channels has one
///   scale per (input, output) pair, which needs blocked quantisation, opset 21);
/// - weights over 2 GiB (one protobuf message; external data is not written).
public enum ONNXSupport {
  /// Protobuf's limit for one serialised message.
  public static let maximumBytes = Int(Int32.max)

  /// `nil` when `node` can be exported, else why not (a sentence naming the layer).
  public static func reason(for node: Node, inputShapes: [[Int]], quantized: QuantizedWeights) -> String? {
    let kind = node.spec.kindName
    for key in quantized.keys.sorted() where key.hasPrefix("\(node.name)/") {
      let weight = String(key.dropFirst(node.name.count + 1))
      guard let axis = QuantizedTensor.channelAxis(of: node.spec, weight: weight) else {
        return "layer '\(node.name)' (\(kind)) has a quantized weight '\(weight)'; the ONNX export "
          + "stores quantized kernels of conv2d, dense and depthwise-conv2d layers only"
      }
      let q = quantized[key]!
      if q.axis != axis {
        return "layer '\(node.name)' (\(kind)) has its \(weight) quantized with \(q.scales.count) scales "
          + "from axis \(q.axis) of \(q.shape); ONNX's per-axis DequantizeLinear needs one scale per "
          + "output channel (axis \(axis))"
      }
    }
    return nil
  }

  /// Throws `AdaError(.unsupported, path: <layer>)` for the first node (in graph order) that
  /// cannot be exported.
  public static func check(
    _ model: Model, quantized: QuantizedWeights, shapes: [String: [Int]]
  ) throws(AdaError) {
    for node in model.graph.nodes {
      let inputShapes = node.inputs.map { shapes[$0] ?? [] }
      if let why = reason(for: node, inputShapes: inputShapes, quantized: quantized) {
        throw AdaError(
          .unsupported, path: node.name, why,
          hint: "docs/formats.md (ONNX export) lists what the exporter maps")
      }
    }
    let bytes = model.parameters.tensors.values.reduce(0) { $0 + 4 * $1.count }
    if bytes > maximumBytes {
      throw AdaError(
        .unsupported, path: model.graph.name,
        "the weights take \(bytes) bytes; one ONNX file without external data holds at most "
          + "\(maximumBytes)")
    }
  }
}
