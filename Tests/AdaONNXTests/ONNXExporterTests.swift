import AdaCompress
import AdaIO
import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaONNX

/// The exporter against onnxruntime: each case of `ONNXExportCase` (every layer kind alone,
/// every compression operator alone and chained) is exported now and run by
/// `ONNXReferenceEvaluator` (ONNX's operator semantics in plain loops), and the result must
/// equal what onnxruntime 1.31.1 computed on the same export (float compute), committed in
/// Tests/Fixtures/onnx/<case>.io.h5 by tools/reference/make_onnx_fixtures.sh. Tolerance: 1e-4
/// of the output scale, as for a layer against Keras.
final class ONNXExporterTests: XCTestCase {
  static let rtol: Float = 1e-4

  func fixture(_ name: String) throws -> (x: Tensor, ys: [Tensor]) {
    let path = Fixtures.path("onnx/\(name).io.h5")
    guard FileManager.default.fileExists(atPath: path) else {
      throw XCTSkip("missing \(path): run tools/reference/make_onnx_fixtures.sh")
    }
    let names = try TensorFile.datasetNames(path: path).filter { $0.hasPrefix("y") }.sorted {
      Int($0.dropFirst())! < Int($1.dropFirst())!
    }
    return (
      try TensorFile.read(path: path, dataset: "x"),
      try names.map { try TensorFile.read(path: path, dataset: $0) }
    )
  }

  func testExportedGraphsComputeWhatOnnxruntimeComputed() throws {
    for c in ONNXExportCase.all {
      let (x, expected) = try fixture(c.name)
      XCTAssertEqual(x, c.input, "\(c.name): the fixture's input is not the case's (regenerate the fixtures)")
      let (proto, _) = try ONNXExporter.modelProto(
        c.model, quantized: c.quantized, options: ONNXExportOptions())
      let got = try ONNXReferenceEvaluator(model: proto).run(x)
      XCTAssertEqual(got.count, expected.count, c.name)
      for (k, (y, want)) in zip(got, expected).enumerated() {
        assertClose(
          y, want, rtol: Self.rtol, atol: 1e-6, "\(c.name) output \(k): exported graph vs onnxruntime")
      }
    }
  }

  func testExecutorPredictsWhatOnnxruntimePredicted() throws {
    for c in ONNXExportCase.all {
      let (x, expected) = try fixture(c.name)
      let got = try Executor(graph: c.model.graph).predict(x, parameters: c.model.parameters)
      XCTAssertEqual(got.count, expected.count, c.name)
      for (k, (y, want)) in zip(got, expected).enumerated() {
        assertClose(y, want, rtol: Self.rtol, atol: 1e-6, "\(c.name) output \(k): adascale vs onnxruntime")
      }
    }
  }

  func testChannelsFirstLayoutTakesAndGivesNCHW() throws {
    for c in ONNXExportCase.layers where c.model.graph.inputShape.count == 3 {
      let x = c.input
      let (proto, summary) = try ONNXExporter.modelProto(
        c.model, quantized: c.quantized, options: ONNXExportOptions(layout: .nchw))
      XCTAssertEqual(summary.inputShape, [-1, x.shape[3], x.shape[1], x.shape[2]], c.name)
      let got = try ONNXReferenceEvaluator(model: proto).run(
        ONNXReferenceEvaluator.transpose(x, perm: [0, 3, 1, 2]))
      let want = try Executor(graph: c.model.graph).predict(x, parameters: c.model.parameters)
      for (y, w) in zip(got, want) {
        let y = y.rank == 4 ? ONNXReferenceEvaluator.transpose(y, perm: [0, 2, 3, 1]) : y
        assertClose(y, w, rtol: Self.rtol, atol: 1e-6, "\(c.name) --layout nchw")
      }
    }
  }

  func testBatchNormIsFoldedExceptIntoAQuantizedKernel() throws {
    let model = ONNXExportCase.smallCNN
    let (_, plain) = try ONNXExporter.export(model)
    XCTAssertEqual(plain.foldedBatchNorms, 2)
    XCTAssertNil(plain.operators["Mul"], "no batch-norm left as Mul/Add: \(plain.operators)")
    let q = try Quantize(bits: 8).apply(to: model, selecting: .named(["conv1"]))
    let (_, quantized) = try ONNXExporter.export(q.model, quantized: q.quantized)
    XCTAssertEqual(quantized.foldedBatchNorms, 1, "bn1 stays: conv1's integers would change")
    XCTAssertEqual(quantized.operators["Mul"], 1)
    XCTAssertEqual(quantized.quantizedKernels, ["conv1/kernel"])
  }

  func testQuantizedKernelsAreInt8InitialisersWithPerAxisDequantize() throws {
    let c = ONNXExportCase.quantizedKernels(bits: 4)
    let (proto, _) = try ONNXExporter.modelProto(
      c.model, quantized: c.quantized, options: ONNXExportOptions())
    let dequantize = proto.graph.node.filter { $0.opType == "DequantizeLinear" }
    XCTAssertEqual(dequantize.count, 3)
    let initializers = Dictionary(uniqueKeysWithValues: proto.graph.initializer.map { ($0.name, $0) })
    for node in dequantize {
      let ints = try XCTUnwrap(initializers[node.input[0]])
      XCTAssertEqual(ints.dataType, 3, "\(node.input[0]) is int8")
      let values = try ONNXReferenceEvaluator.tensor(ints).scalars
      XCTAssertLessThanOrEqual(values.map(abs).max()!, 7, "4-bit values in ±7, one per int8")
      let axis = Attributes(node.attribute).int("axis", 1)
      let scales = try XCTUnwrap(initializers[node.input[1]])
      XCTAssertEqual(Int(scales.dims[0]), Int(ints.dims[axis]), "one scale per output channel")
    }
    XCTAssertFalse(initializers.keys.contains("c/kernel"), "no float copy of a quantized kernel")
  }

  /// One graph output per model output, in the model's order (what `adascale predict` writes
  /// as `y0`, `y1`, …; a bundle's multi-exit files put the final output last).
  func testMultiExitModelHasOneOutputPerExitInTheModelsOrder() throws {
    let c = try XCTUnwrap(ONNXExportCase.operators.first { $0.name == "op_early_exit_pool1_8" })
    let (proto, summary) = try ONNXExporter.modelProto(
      c.model, quantized: c.quantized, options: ONNXExportOptions())
    XCTAssertEqual(c.model.graph.outputs.count, 2)
    XCTAssertEqual(summary.outputs, c.model.graph.outputs)
    XCTAssertEqual(proto.graph.output.map(\.name), c.model.graph.outputs)
  }

  /// A kernel quantized per (input, output) pair (axis 2 of a Conv2D kernel) has no ONNX
  /// per-axis form: the error names the layer and nothing is written.
  func testUnsupportedQuantizationNamesTheLayerAndWritesNothing() throws {
    let model = ONNXExportCase.smallCNN
    let kernel = model.parameters["conv2", "kernel"]!
    let q = QuantizedTensor(quantizing: kernel, bits: 8, axis: 2)
    var p = model.parameters
    p["conv2", "kernel"] = q.dequantized()
    let quantizedModel = Model(graph: model.graph, parameters: p)
    let dir = Fixtures.temporaryDirectory("onnx-unsupported")
    let path = dir.appendingPathComponent("m.onnx").path
    let error = XCTAssertThrowsAdaError(
      try ONNXExporter.write(quantizedModel, quantized: ["conv2/kernel": q], to: path))
    XCTAssertEqual(error?.kind, .unsupported)
    XCTAssertEqual(error?.path, "conv2")
    XCTAssertTrue(error?.message.contains("layer 'conv2' (conv2d)") ?? false, error?.message ?? "")
    XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: dir.path), [], "no temporary file left")
  }

  /// `ADASCALE_ONNX_RECORD=DIR`: writes every case's export (`<case>.onnx`) and input
  /// (`<case>.x.h5`) into DIR for tools/reference/make_onnx_fixtures.sh; skipped otherwise.
  func testRecordFixtureInputs() throws {
    guard let dir = ProcessInfo.processInfo.environment["ADASCALE_ONNX_RECORD"] else {
      throw XCTSkip("set ADASCALE_ONNX_RECORD=DIR to write the fixture inputs")
    }
    for c in ONNXExportCase.all {
      try ONNXExporter.write(c.model, quantized: c.quantized, to: "\(dir)/\(c.name).onnx")
      try TensorFile.write([("x", c.input)], to: "\(dir)/\(c.name).x.h5")
    }
  }
}
