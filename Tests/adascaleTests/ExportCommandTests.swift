import AdaCompress
import AdaIO
import AdaNN
import Foundation
import TestSupport
import XCTest

/// `adascale export`: writes an ONNX file, names the unsupported layer with exit code 1 and
/// writes nothing then, and rejects unknown formats and layouts as usage errors.
final class ExportCommandTests: XCTestCase {
  func testExportWritesAnONNXFileAndSummarisesIt() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("cnn.onnx").path
    let result = try CLI.run(
      [
        "export", "--model", Fixtures.path("keras/fmnist_cnn.h5"), "--format", "onnx", "--output", out,
        "--json",
      ])
    XCTAssertEqual(result.status, 0, result.stderr)
    let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    let onnx = try XCTUnwrap(summary?["onnx"] as? [String: Any])
    XCTAssertEqual(onnx["opset"] as? Int, 18)
    XCTAssertEqual(onnx["foldedBatchNorms"] as? Int, 2)
    XCTAssertEqual(onnx["outputs"] as? [String], ["fc2"])
    let bytes = try XCTUnwrap(onnx["bytes"] as? Int)
    XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int, bytes)
  }

  func testUnsupportedQuantizationNamesTheLayerExitsOneAndWritesNothing() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    // conv2's kernel quantized with one scale per (input, output) channel: adascale runs it,
    // ONNX's per-axis DequantizeLinear cannot hold it.
    let model = dir.appendingPathComponent("m.h5").path
    let out = dir.appendingPathComponent("m.onnx").path
    let (source, _) = try KerasModelReader.loadWithQuantized(path: Fixtures.path("keras/fmnist_cnn.h5"))
    let q = QuantizedTensor(quantizing: source.parameters["conv2", "kernel"]!, bits: 8, axis: 2)
    var p = source.parameters
    p["conv2", "kernel"] = q.dequantized()
    try KerasModelWriter.save(
      Model(graph: source.graph, parameters: p), quantized: ["conv2/kernel": q], to: model)
    let result = try CLI.run(["export", "--model", model, "--output", out])
    XCTAssertEqual(result.status, 1, result.stderr)
    XCTAssertTrue(result.stderr.contains("conv2: layer 'conv2' (conv2d)"), result.stderr)
    XCTAssertTrue(result.stderr.contains("hint:"), result.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out))
  }

  func testUnknownFormatOrLayoutIsAUsageError() throws {
    let model = Fixtures.path("keras/mlp.h5")
    for args in [["--format", "tflite"], ["--layout", "nwhc"]] {
      let result = try CLI.run(["export", "--model", model, "--output", "/tmp/x.onnx"] + args)
      XCTAssertNotEqual(result.status, 0)
      XCTAssertTrue(result.stderr.contains(args[0]), result.stderr)
    }
  }
}
