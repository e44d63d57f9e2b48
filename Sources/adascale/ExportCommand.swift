import AdaIO
import AdaNN
import AdaONNX
import AdaTensor
import ArgumentParser
import Foundation

/// Output formats `adascale export` writes.
enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
  case onnx
}

struct ExportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract: "Export a model for mobile runtimes (ONNX, run by onnxruntime).",
    discussion: HelpText.reflow(
      """
      Writes --model as an ONNX file (opset 17, IR 8) that onnxruntime runs and that predicts
      what `adascale predict` predicts. Batch-norms are folded into the layer before them;
      quantized kernels (8 or 4 bits) are stored as int8 with a per-channel DequantizeLinear;
      a multi-exit model has one graph output per exit, the final output last. The graph input
      keeps Keras's NHWC layout (a Transpose inside) unless --layout nchw. A layer the export
      cannot map is named in the error (exit code 1) and nothing is written. The file is
      written atomically. docs/formats.md ("ONNX export") has the layer → operator map.

      Examples:
        adascale export --model model.h5 --format onnx --output model.onnx
        adascale export --model bundles/fmnist/variants/v01_exits.h5 \\
          --output v01_exits.onnx --layout nchw
      """))

  @OptionGroup var modelOptions: ModelOptions

  @Option(help: "Output format: \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
  var format: ExportFormat = .onnx

  @Option(help: "Output file.")
  var output: String

  @Option(help: "Image layout of the graph input and rank-4 outputs: nhwc (Keras's) or nchw.")
  var layout: ONNXLayout = .nhwc

  @Flag(help: "Print a JSON summary.")
  var json = false

  struct Summary: Codable {
    var model: String
    var output: String
    var format: String
    var onnx: ONNXExportSummary
  }

  func validate() throws {
    try checkOutputDirectory(output, option: "--output")
  }

  func run() throws {
    let (model, quantized) = try IsolatedDecode.loadModelWithQuantized(
      modelOptions.model, config: modelOptions.config)
    let summary: ONNXExportSummary
    do throws(AdaError) {
      summary = try ONNXExporter.write(
        model, quantized: quantized,
        options: ONNXExportOptions(layout: layout, producerVersion: AdaScaleVersion.string), to: output)
    } catch {
      throw error.inFile(modelOptions.model)
    }
    if json {
      return try Output.printJSON(
        Summary(model: modelOptions.model, output: output, format: format.rawValue, onnx: summary))
    }
    let ops = summary.operators.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
    let outputs = zip(summary.outputs, summary.outputShapes).map {
      "\($0) \(Output.shape(Array($1.dropFirst())))"
    }
    print(
      "exported \(modelOptions.model) → \(output): ONNX opset \(summary.opset) (IR \(summary.irVersion)), "
        + "\(summary.bytes) bytes, layout \(summary.layout.rawValue)")
    print("  \(summary.nodeCount) nodes: \(ops.joined(separator: ", "))")
    print(
      "  batch-norms folded: \(summary.foldedBatchNorms); int8 kernels (QDQ): \(summary.quantizedKernels.count)"
    )
    print("  outputs: \(outputs.joined(separator: ", "))")
  }
}

extension ONNXLayout: ExpressibleByArgument {}
