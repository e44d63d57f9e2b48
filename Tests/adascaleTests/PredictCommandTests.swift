import AdaIO
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// `adascale predict` against outputs computed by real Keras (tools/reference/make_keras_fixtures.py):
/// every fixture model, in every format it was saved in, within 1e-4 of the output scale.
final class PredictCommandTests: XCTestCase {
  static let keras3 = ["mlp", "conv_ops", "depthwise_ops", "dag", "mobilenet_tiny"]
  static let keras2 = ["keras2_seq", "keras2_dag"]

  func run(model: String, extra: [String] = [], io: String) throws {
    let dir = Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("y.h5").path
    let ioPath = Fixtures.path("keras/\(io).io.h5")
    let result = try CLI.run(
      ["predict", "--model", Fixtures.path("keras/\(model)"), "--input", ioPath, "--output", out] + extra)
    XCTAssertEqual(result.status, 0, "\(model): \(result.stderr)")
    guard result.status == 0 else { return }
    let names = try TensorFile.datasetNames(path: out)
    let expectedNames = try TensorFile.datasetNames(path: ioPath).filter { $0 != "x" }.sorted()
    XCTAssertEqual(names.sorted(), expectedNames, model)
    for name in expectedNames {
      let ours = try TensorFile.read(path: out, dataset: name)
      let keras = try TensorFile.read(path: ioPath, dataset: name)
      assertClose(ours, keras, rtol: 1e-4, "\(model) \(name)")
    }
  }

  func testLegacyH5MatchesKeras() throws {
    for name in Self.keras3 + Self.keras2 { try run(model: "\(name).h5", io: name) }
  }

  func testKerasZipMatchesKeras() throws {
    for name in Self.keras3 { try run(model: "\(name).keras", io: name) }
  }

  func testWeightsH5WithConfigMatchesKeras() throws {
    for name in Self.keras3 {
      try run(
        model: "\(name).weights.h5", extra: ["--config", Fixtures.path("keras/\(name).config.json")], io: name
      )
    }
  }

  func testTrainedFashionMNISTModelMatchesKerasInBothFormats() throws {
    try run(model: "fmnist_cnn.h5", io: "fmnist_cnn")
    try run(model: "fmnist_cnn.keras", io: "fmnist_cnn")
  }

  func testJSONSummaryNamesOutputsAndShapes() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = try CLI.run([
      "predict", "--model", Fixtures.path("keras/dag.h5"), "--input", Fixtures.path("keras/dag.io.h5"),
      "--output", dir.appendingPathComponent("y.h5").path, "--json",
    ])
    XCTAssertEqual(result.status, 0, result.stderr)
    let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    let outputs = json?["outputs"] as? [String: Any]
    XCTAssertEqual(outputs?.keys.sorted(), ["y0", "y1"])
    XCTAssertEqual(json?["examples"] as? Int, 4)
  }
}
