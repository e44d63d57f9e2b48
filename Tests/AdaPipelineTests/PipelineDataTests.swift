import AdaBundle
import AdaFormats
import AdaIO
import AdaNN
import AdaPipeline
import AdaRecipe
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// The recipe's dataset preparation reaches every split the pipeline draws from, and data that
/// does not fit the model is a located error naming both shapes.
final class PipelineDataTests: XCTestCase {
  var directory = ""

  override func setUpWithError() throws {
    try XCTSkipUnless(
      FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"),
      "Fashion-MNIST is installed by `make deps`")
    directory = NSTemporaryDirectory() + "adascale-pipeline-data-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

  /// A 32×32 RGB model (flatten → dense), the input MobileNetV2-style models take.
  func rgbGraph() throws -> Graph {
    let path = directory + "/rgb.yaml"
    try "name: rgb\ninput: [32, 32, 3]\nlayers:\n  - flatten\n  - dense: {units: 10, activation: softmax}\n"
      .write(toFile: path, atomically: true, encoding: .utf8)
    return try ArchitectureFile.load(path: path)
  }

  func recipe(_ datasetExtra: String) throws -> Recipe {
    let text = """
      name: t
      model: {architecture: recipes/models/fmnist_cnn.yaml}
      dataset:
        source: fashion-mnist
        train-limit: 300
        validation: 100
        calibration: 50
        test-limit: 40
      \(datasetExtra)
      """
    return try Recipe.parse(text: text, file: "t.yaml", baseDirectory: RecipeRoot.path)
  }

  func testResizeChannelsAndPreprocessReachEverySplit() throws {
    let r = try recipe("  resize: {size: [32, 32]}\n  channels: 3\n  preprocess: tf\n")
    let data = try PipelineData.load(r, for: try rgbGraph())
    XCTAssertEqual(data.preparation, r.dataset.preparation)
    for (name, split) in [
      ("train", data.train), ("validation", data.validation), ("calibration", data.calibration),
      ("test", data.test),
    ] {
      XCTAssertEqual(split.exampleShape, [32, 32, 3], name)
      guard case .bytes = split.storage else { return XCTFail("\(name) is not kept as uint8") }
      let x = try split.examples(at: Array(0..<min(20, split.count)))
      XCTAssertEqual(x.scalars.min(), -1, name)  // tf mode: black is −1
      XCTAssertLessThanOrEqual(x.scalars.max()!, 1, name)
    }
    let record = Manifest.Preprocessing(data.preparation, inputShape: [32, 32, 3], pixels: true)
    let json = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
    for key in ["\"mode\":\"tf\"", "\"channels\":3", "\"input_shape\":[32,32,3]", "\"method\":\"bilinear\""] {
      XCTAssertTrue(json.contains(key), "\(key) in \(json)")
    }
  }

  /// Search scores the first `search-examples` validation examples; exit calibration keeps all.
  func testSearchValidationIsTheFirstValidationExamples() throws {
    let graph = try ArchitectureFile.load(path: RecipeRoot.path + "/recipes/models/fmnist_cnn.yaml")
    let all = try PipelineData.load(try recipe(""), for: graph)
    XCTAssertEqual(all.searchValidation.count, 100)
    XCTAssertEqual(all.searchValidation.labels, all.validation.labels)
    let data = try PipelineData.load(try recipe("  search-examples: 30\n"), for: graph)
    XCTAssertEqual(data.validation.count, 100)
    XCTAssertEqual(data.train.count, 200)
    XCTAssertEqual(data.searchValidation.count, 30)
    XCTAssertEqual(data.searchValidation.labels, Array(data.validation.labels[0..<30]))
    XCTAssertEqual(
      try data.searchValidation.examples(at: Array(0..<30)).scalars,
      try data.validation.examples(at: Array(0..<30)).scalars)
  }

  func testDataThatDoesNotFitTheModelNamesDatasetAndBothShapes() throws {
    XCTAssertThrowsError(try PipelineData.load(try recipe(""), for: try rgbGraph())) { e in
      let e = e as! AdaError
      XCTAssertEqual(e.file, "t.yaml")
      XCTAssertEqual(e.path, "dataset")
      XCTAssertTrue(e.message.contains("[28, 28, 1]") && e.message.contains("[32, 32, 3]"), e.message)
      XCTAssertTrue(e.hint?.contains("resize: {size: [32, 32]") == true, e.hint ?? "no hint")
    }
    XCTAssertThrowsError(try PipelineData.load(try recipe("  preprocess: caffe\n"), for: try rgbGraph())) {
      e in
      XCTAssertEqual((e as! AdaError).path, "dataset.preprocess")
      XCTAssertTrue((e as! AdaError).hint?.contains("channels: 3") == true)
    }
  }
}

/// The repository root (recipe paths resolve against it).
enum RecipeRoot {
  static let path = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().path
}
