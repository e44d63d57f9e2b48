import AdaIO
import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// `--resize`, `--resize-method`, `--channels`, `--preprocess`, `--max-memory` on eval, train and
/// apply: streaming changes nothing in the numbers, a size mismatch says which options fix it,
/// bad values are usage errors naming the option.
final class DataPreparationOptionsTests: XCTestCase {
  var directory: URL!

  override func setUpWithError() throws { directory = Fixtures.temporaryDirectory("adascale-prep-cli") }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

  func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  /// uint8 grey `side × side` images, 4 classes: the lit quadrant is the class.
  func writeQuadrants(_ path: String, side: Int, train: Int = 128, test: Int = 48) throws {
    var g = SeededGenerator(seed: 11)
    let f = try HDF5File.create(path)
    for (split, n) in [("train", train), ("test", test)] {
      var x = [UInt8](repeating: 0, count: n * side * side)
      var y = [Int64](repeating: 0, count: n)
      for i in 0..<n {
        let c = Int(g.next() % 4)
        y[i] = Int64(c)
        for r in 0..<side {
          for col in 0..<side {
            let lit = r / (side / 2) == c / 2 && col / (side / 2) == c % 2
            x[(i * side + r) * side + col] = UInt8(g.next() % 80) + (lit ? 150 : 0)
          }
        }
      }
      try f.root.write(dataset: "x_\(split)", shape: [n, side, side], values: x)
      try f.root.write(dataset: "y_\(split)", shape: [n], values: y)
    }
    try f.close()
  }

  func train(_ dataset: String, output: String, _ extra: [String] = []) throws -> CLI.Result {
    try CLI.run(
      [
        "train", "--arch", Fixtures.path("arch/tiny_cnn.yaml"), "--dataset", dataset, "--epochs", "1",
        "--batch-size", "16", "--seed", "3", "--output", output,
      ] + extra, timeout: 300)
  }

  func testStreamingFromTheFileTrainsAndEvaluatesBitIdentically() throws {
    let data = path("q12.h5")
    try writeQuadrants(data, side: 12)
    let a = try train(data, output: path("memory.h5"))
    XCTAssertEqual(a.status, 0, a.stderr)
    let b = try train(data, output: path("streamed.h5"), ["--max-memory", "1KB"])
    XCTAssertEqual(b.status, 0, b.stderr)
    let memory = try KerasModelReader.load(path: path("memory.h5"))
    let streamed = try KerasModelReader.load(path: path("streamed.h5"))
    XCTAssertEqual(memory.parameters.keys, streamed.parameters.keys)
    for key in memory.parameters.keys {
      let (m, s) = (memory.parameters.tensors[key]!, streamed.parameters.tensors[key]!)
      XCTAssertEqual(m.scalars.map(\.bitPattern), s.scalars.map(\.bitPattern), key)
    }
    let evals = try [["--max-memory", "2GB"], ["--max-memory", "100B"]].map { option in
      try CLI.run(["eval", "--model", path("memory.h5"), "--dataset", data, "--json"] + option)
    }
    for e in evals { XCTAssertEqual(e.status, 0, e.stderr) }
    let reports = try evals.map {
      try JSONSerialization.jsonObject(with: Data($0.stdout.utf8)) as! [String: Any]
    }
    XCTAssertEqual(reports[0]["accuracy"] as? Double, reports[1]["accuracy"] as? Double)
    XCTAssertEqual(reports[0]["loss"] as? Double, reports[1]["loss"] as? Double)
  }

  func testASizeMismatchNamesBothShapesAndTheOptionsThatFixIt() throws {
    let data = path("q10.h5")
    try writeQuadrants(data, side: 10, train: 32, test: 16)
    let r = try train(data, output: path("m.h5"))
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(
      r.stderr.contains("dataset") && r.stderr.contains("[10, 10, 1]") && r.stderr.contains("[12, 12, 1]"),
      r.stderr)
    XCTAssertTrue(r.stderr.contains("hint: add --resize 12x12"), r.stderr)
    let resized = try train(data, output: path("m.h5"), ["--resize", "12x12", "--preprocess", "tf"])
    XCTAssertEqual(resized.status, 0, resized.stderr)
    let padded = try CLI.run(
      ["eval", "--model", path("m.h5"), "--dataset", data, "--resize", "12x12", "--resize-method", "pad"])
    XCTAssertEqual(padded.status, 0, padded.stderr)
    let torch = try CLI.run([
      "eval", "--model", path("m.h5"), "--dataset", data, "--resize", "12x12", "--preprocess", "torch",
    ])
    XCTAssertEqual(torch.status, 1)
    XCTAssertTrue(torch.stderr.contains("--preprocess") && torch.stderr.contains("3 channels"), torch.stderr)
  }

  func testBadValuesAreUsageErrorsNamingTheOption() throws {
    for (extra, option) in [
      (["--resize", "32"], "--resize"), (["--resize", "0x4"], "--resize"),
      (["--preprocess", "tff"], "--preprocess"),
      (["--channels", "0"], "--channels"), (["--max-memory", "lots"], "--max-memory"),
      (["--resize-method", "cubic"], "--resize-method"),
    ] {
      let r = try CLI.run(
        ["eval", "--model", Fixtures.path("keras/mlp.h5"), "--dataset", path("absent.h5")] + extra)
      XCTAssertEqual(r.status, 1, "\(extra)")
      XCTAssertTrue(r.stderr.contains(option), "\(extra): \(r.stderr)")
    }
  }

  func testHelpShowsHowToFitFashionMNISTToARGBModel() throws {
    for command in ["eval", "train", "apply"] {
      let r = try CLI.run([command, "--help"])
      XCTAssertEqual(r.status, 0)
      XCTAssertTrue(
        r.stdout.contains("--resize 32x32 --channels 3 --preprocess tf"), "\(command):\n\(r.stdout)")
      XCTAssertTrue(r.stdout.contains("--max-memory"), command)
    }
  }
}
