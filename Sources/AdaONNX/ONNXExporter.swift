import AdaCompress
import AdaCore
import AdaIO
import AdaNN
import AdaTensor
import Foundation
import SwiftProtobuf

/// Writes an adascale model as an ONNX `ModelProto` (opset `ONNXExportOptions.opset`) that
/// onnxruntime runs and that predicts what `Executor` predicts.
///
/// The graph is the model's, node for node, after two deployment steps:
/// - every batch-norm that `BatchNormFolding` can fold into the Conv2D, Dense or
///   DepthwiseConv2D before it is folded (not into a quantized kernel: its integers would no
///   longer match; such a batch-norm becomes a per-channel `Mul` + `Add`);
/// - quantized kernels (`QuantizedWeights`) are stored as int8 initialisers with per-channel
///   scales and a `DequantizeLinear` on the output-channel axis (QDQ); 2…7-bit integers are
///   stored the same way, one per int8.
///
/// Every node is checked before anything is built (`ONNXSupport`): an unsupported layer throws
/// `AdaError(.unsupported, path: <layer>)` and no bytes are produced. The layer → operator map
/// is in docs/formats.md ("ONNX export").
///
///     let (model, quantized) = try KerasModelReader.loadWithQuantized(path: "v01.h5")
///     let summary = try ONNXExporter.write(model, quantized: quantized, to: "v01.onnx")
public enum ONNXExporter {
  /// The serialised model and what it holds.
  public static func export(
    _ model: Model, quantized: QuantizedWeights = [:], options: ONNXExportOptions = ONNXExportOptions()
  ) throws(AdaError) -> (data: Data, summary: ONNXExportSummary) {
    let (proto, summary) = try modelProto(model, quantized: quantized, options: options)
    let data: Data
    do {
      data = try proto.serializedData()
    } catch {
      throw AdaError(.internalError, "could not serialise the ONNX model: \(error)")
    }
    var s = summary
    s.bytes = data.count
    return (data, s)
  }

  /// Exports `model` to `path` atomically (`AtomicFile`): on any error nothing is written and an
  /// existing file is untouched.
  @discardableResult
  public static func write(
    _ model: Model, quantized: QuantizedWeights = [:], options: ONNXExportOptions = ONNXExportOptions(),
    to path: String
  ) throws(AdaError) -> ONNXExportSummary {
    let (data, summary) = try export(model, quantized: quantized, options: options)
    try AtomicFile.write(data, to: path, what: "the ONNX file")
    return summary
  }

  /// Throws what `export` would throw for `model` (invalid weights or table, an unsupported
  /// layer) without building the graph: the bundle writer calls it before writing anything.
  public static func checkSupported(_ model: Model, quantized: QuantizedWeights = [:]) throws(AdaError) {
    try model.validate()
    try quantized.validate(against: model)
    let (deployed, deployedQuantized, _) = try foldBatchNorms(model, quantized: quantized)
    try ONNXSupport.check(deployed, quantized: deployedQuantized, shapes: try deployed.validate())
  }

  /// The `ModelProto`, before serialisation (tests read it back).
  static func modelProto(
    _ model: Model, quantized: QuantizedWeights, options: ONNXExportOptions
  ) throws(AdaError) -> (Onnx_ModelProto, ONNXExportSummary) {
    try model.validate()
    try quantized.validate(against: model)
    let (deployed, deployedQuantized, folded) = try foldBatchNorms(model, quantized: quantized)
    let shapes = try deployed.validate()
    try ONNXSupport.check(deployed, quantized: deployedQuantized, shapes: shapes)

    let graph = deployed.graph
    var builder = ONNXGraphBuilder(
      parameters: deployed.parameters, quantized: deployedQuantized, shapes: shapes, graph: graph)
    var values: [String: ONNXValue] = [:]
    let inputNode = graph.input
    let inputValue = ONNXValue(
      name: inputNode.name, shape: graph.inputShape, channelsFirst: options.layout == .nchw)
    for node in graph.nodes {
      if case .input = node.spec {
        values[node.name] = inputValue
        continue
      }
      let inputs = node.inputs.map { values[$0]! }
      values[node.name] = try builder.emit(node, inputs: inputs)
    }
    var outputInfos: [Onnx_ValueInfoProto] = []
    var outputShapes: [[Int]] = []
    for name in graph.outputs {
      var v = values[name]!
      v = options.layout == .nchw ? builder.channelsFirst(v) : builder.channelsLast(v)
      builder.identity(v.name, to: name)
      let dims = [-1] + v.onnxShape
      outputInfos.append(ONNXProto.valueInfo(name, dims: dims))
      outputShapes.append(dims)
    }
    let inputDims = [-1] + inputValue.onnxShape

    var g = Onnx_GraphProto()
    g.name = graph.name
    g.node = builder.nodes
    g.initializer = builder.initializers
    g.input = [ONNXProto.valueInfo(inputNode.name, dims: inputDims)]
    g.output = outputInfos
    g.docString =
      "Exported by adascale from the Keras model '\(graph.name)'; layout \(options.layout.rawValue)."

    var m = Onnx_ModelProto()
    m.irVersion = ONNXExportOptions.irVersion
    var opset = Onnx_OperatorSetIdProto()
    opset.domain = ""
    opset.version = ONNXExportOptions.opset
    m.opsetImport = [opset]
    m.producerName = "adascale"
    m.producerVersion = options.producerVersion
    m.graph = g
    let summary = ONNXExportSummary(
      bytes: 0, opset: Int(ONNXExportOptions.opset), irVersion: Int(ONNXExportOptions.irVersion),
      layout: options.layout, operators: builder.operatorCounts, foldedBatchNorms: folded,
      quantizedKernels: deployedQuantized.keys.sorted(), input: inputNode.name, inputShape: inputDims,
      outputs: graph.outputs, outputShapes: outputShapes)
    return (m, summary)
  }

  /// Folds every foldable batch-norm whose layer's kernel is not quantized; returns the model,
  /// its (unchanged) quantized table and the number folded.
  static func foldBatchNorms(
    _ model: Model, quantized: QuantizedWeights
  ) throws(AdaError) -> (Model, QuantizedWeights, Int) {
    let folding = BatchNormFolding()
    let names = model.graph.nodes.filter {
      folding.isEligible($0, in: model) && quantized[Parameters.key($0.name, "kernel")] == nil
    }.map(\.name)
    guard !names.isEmpty else { return (model, quantized, 0) }
    let folded = try folding.apply(to: model, selecting: .named(names)).model
    let kept = quantized.stillMatching(folded)
    guard kept.count == quantized.count else {
      throw AdaError(.internalError, "batch-norm folding changed a quantized kernel")
    }
    return (folded, kept, names.count)
  }
}
