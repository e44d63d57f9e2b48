import AdaNN
import AdaTensor

/// How image tensors cross the graph's border. Inside the graph, convolutions, pooling and
/// padding always run channels-first (ONNX's only layout for them).
///
/// - `nhwc`: the graph input (and any rank-4 output) keeps Keras's `[N, H, W, C]`; a `Transpose`
///   inside the graph moves it to `[N, C, H, W]` before the first convolution. The default:
///   an app feeds the exported file exactly what it fed the Keras model.
/// - `nchw`: the graph input is `[N, C, H, W]` (and so are rank-4 outputs): no border transpose,
///   for runtimes and apps that already hold channels-first images.
public enum ONNXLayout: String, Codable, Hashable, Sendable, CaseIterable {
  case nhwc, nchw
}

/// Settings of `ONNXExporter`. The defaults are what bundles ship.
public struct ONNXExportOptions: Codable, Hashable, Sendable {
  public var layout: ONNXLayout
  /// Name recorded as the model's producer.
  public var producerVersion: String

  public init(layout: ONNXLayout = .nhwc, producerVersion: String = "0.1.0") {
    self.layout = layout
    self.producerVersion = producerVersion
  }

  /// The ONNX operator set the exporter writes: 18 (HardSwish needs 14, per-axis
  /// `DequantizeLinear` 13; onnxruntime 1.31 runs up to 23).
  public static let opset: Int64 = 18
  /// The ONNX IR version that goes with opset 18.
  public static let irVersion: Int64 = 8
}

/// What an export produced, for the CLI's summary and the bundle writer.
public struct ONNXExportSummary: Codable, Hashable, Sendable {
  /// Serialised `ModelProto` size in bytes.
  public var bytes: Int
  public var opset: Int
  public var irVersion: Int
  public var layout: ONNXLayout
  /// Number of ONNX nodes of each operator type, e.g. `["Conv": 2, "Relu": 3]`.
  public var operators: [String: Int]
  /// Batch-norms folded into the Conv2D, Dense or DepthwiseConv2D before them.
  public var foldedBatchNorms: Int
  /// Kernels stored as int8 with a per-axis `DequantizeLinear` (keys `node/kernel`).
  public var quantizedKernels: [String]
  /// Graph input name and shape (`-1` for the batch).
  public var input: String
  public var inputShape: [Int]
  /// Graph outputs in model-output order (early exits first, the final output last), with shapes.
  public var outputs: [String]
  public var outputShapes: [[Int]]

  public var nodeCount: Int { operators.values.reduce(0, +) }
}
