import AdaIO
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// `adascale train` failure modes a user hits: divergence, a dataset without a test split,
/// bad option values and outputs that cannot be written — each before or instead of wasted work.
final class TrainCommandTests: XCTestCase {
  var directory: URL!

  override func setUpWithError() throws {
    directory = Fixtures.temporaryDirectory("adascale-train-cli")
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  func train(_ dataset: String, _ extra: [String]) throws -> CLI.Result {
    try CLI.run(
      [
        "train", "--arch", Fixtures.path("arch/tiny_cnn.yaml"), "--dataset", dataset, "--epochs", "1",
        "--batch-size", "16", "--output", path("m.h5"),
      ] + extra)
  }

  func testDivergenceStopsWithALocatedErrorAndAHintAndWritesNoModel() throws {
    let data = path("quadrants.h5")
    try TrainResumeCLITests.writeQuadrantDataset(to: data)
    let r = try train(data, ["--optimizer", "sgd", "--lr", "1e12"])
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertTrue(
      r.stderr.contains("diverged") && r.stderr.contains("hint: lower the learning rate"), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: path("m.h5")))
  }

  func testDatasetWithoutATestSplitTrainsAndSaysSo() throws {
    let full = path("quadrants.h5")
    try TrainResumeCLITests.writeQuadrantDataset(to: full)
    let trainOnly = path("train-only.h5")
    try TensorFile.write(
      [
        ("x", try TensorFile.read(path: full, dataset: "x_train")),
        ("y", try TensorFile.read(path: full, dataset: "y_train")),
      ], to: trainOnly)
    let r = try train(trainOnly, [])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("no test split"), r.stdout)
    XCTAssertTrue(FileManager.default.fileExists(atPath: path("m.h5")))
  }

  func testBadOptionValuesAndMissingOutputDirectoryFailBeforeLoadingAnything() throws {
    for (extra, mention) in [
      (["--validation-split", "1.5"], "--validation-split"),
      (["--alpha", "2"], "--alpha"),
      (["--lr", "-1"], "--lr"),
      (["--output", path("no/such/dir/m.h5")], "does not exist"),
    ] {
      // The dataset does not exist: a usage error must come first.
      let r = try train(path("absent.h5"), extra)
      XCTAssertEqual(r.status, 1, "\(extra): \(r.stderr)")
      XCTAssertTrue(r.stderr.contains(mention), "\(extra): \(r.stderr)")
    }
  }
}
