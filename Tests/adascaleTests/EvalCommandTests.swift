import Foundation
import TestSupport
import XCTest

/// `adascale eval` scores the Keras-trained Fashion-MNIST CNN as Keras does (fixture metadata
/// `fmnist_cnn.json`, written by tools/reference/make_keras_fixtures.py from `model.evaluate`).
final class EvalCommandTests: XCTestCase {
  func testFashionMNISTAccuracyMatchesKerasWithinATenthOfAPoint() throws {
    try XCTSkipUnless(
      FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"),
      "Fashion-MNIST is installed by `make deps`")
    let meta =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: Fixtures.url("keras/fmnist_cnn.json"))) as! [String: Any]
    let keras = meta["test_accuracy"] as! Double
    let r = try CLI.run(
      ["eval", "--model", Fixtures.path("keras/fmnist_cnn.h5"), "--dataset", "fashion-mnist", "--json"],
      timeout: 600)
    XCTAssertEqual(r.status, 0, r.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    XCTAssertEqual(report["examples"] as? Int, 10_000)
    let ours = report["accuracy"] as! Double
    XCTAssertEqual(ours * 100, keras * 100, accuracy: 0.1, "adascale \(ours) vs Keras \(keras)")
  }

  func testUnknownDatasetIsAUserErrorNamingIt() throws {
    let r = try CLI.run(["eval", "--model", Fixtures.path("keras/mlp.h5"), "--dataset", "imagenet-21k"])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("imagenet-21k"), r.stderr)
  }

  func testDatasetThatDoesNotFitTheModelNamesBothShapes() throws {
    let r = try CLI.run(
      ["eval", "--model", Fixtures.path("keras/mlp.h5"), "--dataset", "fashion-mnist", "--limit", "10"])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("[28, 28, 1]") && r.stderr.contains("[20]"), r.stderr)
  }
}
