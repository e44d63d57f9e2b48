import AdaIO
import Foundation
import TestSupport
import XCTest

/// Bad input never crashes or hangs: exit code 1, and a message naming the file and the HDF5
/// path or layer. Fixtures: Tests/Fixtures/bad/README.md.
final class BadInputTests: XCTestCase {
  var dir: URL!

  override func setUp() { dir = Fixtures.temporaryDirectory() }
  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  /// Runs `predict` with `model`, expects exit 1 with every `mentions` in stderr, and no output file.
  func expectUserError(
    model: String, input: String = Fixtures.path("keras/conv_ops.io.h5"), extra: [String] = [],
    mentions: [String], file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let out = dir.appendingPathComponent("y.h5").path
    let r = try CLI.run(["predict", "--model", model, "--input", input, "--output", out] + extra)
    XCTAssertEqual(r.status, 1, "exit code; stderr: \(r.stderr)", file: file, line: line)
    XCTAssertTrue(r.stderr.hasPrefix("error: "), r.stderr, file: file, line: line)
    for m in mentions {
      XCTAssertTrue(r.stderr.contains(m), "stderr should mention '\(m)': \(r.stderr)", file: file, line: line)
    }
    XCTAssertFalse(
      FileManager.default.fileExists(atPath: out), "no output is written on error", file: file, line: line)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
    XCTAssertEqual(leftovers, [], "no temporary files left behind", file: file, line: line)
  }

  func testTruncatedFile() throws {
    try expectUserError(model: Fixtures.path("bad/truncated.h5"), mentions: ["truncated.h5"])
  }

  func testFileThatIsNotHDF5() throws {
    try expectUserError(model: Fixtures.path("bad/not_hdf5.h5"), mentions: ["not_hdf5.h5"])
  }

  func testMissingFile() throws {
    try expectUserError(model: dir.appendingPathComponent("nope.h5").path, mentions: ["nope.h5"])
  }

  func testUnknownLayerClassNamesLayerAndClass() throws {
    try expectUserError(
      model: Fixtures.path("bad/unknown_layer.h5"), mentions: ["unknown_layer.h5", "gru", "GRU"])
  }

  func testSharedNestedModelNamesTheInnerModel() throws {
    try expectUserError(
      model: Fixtures.path("bad/shared_nested.h5"), mentions: ["shared_nested.h5", "inner"])
  }

  func testMissingWeightNamesLayerAndWeight() throws {
    try expectUserError(
      model: Fixtures.path("bad/missing_weight.h5"),
      mentions: ["missing_weight.h5", "conv_same_s2", "kernel"])
  }

  func testWeightOfWrongShapeNamesLayerAndShapes() throws {
    try expectUserError(
      model: Fixtures.path("bad/wrong_shape.h5"), mentions: ["wrong_shape.h5", "conv_valid", "kernel", "6"])
  }

  func testNaNWeightsNameLayerAndWeight() throws {
    try expectUserError(
      model: Fixtures.path("bad/nan_weights.h5"), mentions: ["nan_weights.h5", "conv_1x1", "kernel"])
  }

  func testCorruptKerasArchive() throws {
    try expectUserError(model: Fixtures.path("bad/corrupt.keras"), mentions: ["corrupt.keras"])
  }

  func testInputOfTheWrongShapeNamesTheInputFileAndDataset() throws {
    try expectUserError(
      model: Fixtures.path("keras/conv_ops.h5"), input: Fixtures.path("bad/wrong_input.io.h5"),
      mentions: ["wrong_input.io.h5", "x", "[4, 16, 16, 4]"])
  }

  func testMissingInputDatasetListsWhatExists() throws {
    try expectUserError(
      model: Fixtures.path("keras/conv_ops.h5"), extra: ["--input-dataset", "images"],
      mentions: ["conv_ops.io.h5", "images"])
  }

  func testNonFiniteInputIsRejected() throws {
    let input = Fixtures.temporaryDirectory().appendingPathComponent("nan-x.h5").path
    var x = try TensorFile.read(path: Fixtures.path("keras/mlp.io.h5"), dataset: "x")
    x.scalars[5] = .nan
    try TensorFile.write([("x", x)], to: input)
    try expectUserError(
      model: Fixtures.path("keras/mlp.h5"), input: input, mentions: ["nan-x.h5", "x", "non-finite"])
  }

  func testUsageErrorExitsOneAndNamesTheOption() throws {
    let r = try CLI.run(["predict", "--model", Fixtures.path("keras/mlp.h5")])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("--input"), r.stderr)
  }
}
