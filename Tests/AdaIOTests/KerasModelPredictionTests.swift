import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaIO

/// End to end: every committed Keras fixture, read in each of its formats, predicts what Keras
/// predicted (`NAME.io.h5`: `x` and `y` or `y0`, `y1`, …), within the whole-network tolerance of
/// style.md (1e-4 relative to the output scale). This is what proves the weight mapping (names,
/// order, Keras 2 aliases) right, not just self-consistent.
final class KerasModelPredictionTests: XCTestCase {
  static let models = [
    "mlp", "conv_ops", "depthwise_ops", "dag", "mobilenet_tiny", "keras2_seq", "keras2_dag",
    "nested_transfer", "nested_deep", "mobilenet_v3_tiny", "efficientnet_tiny", "broadcast_ops",
  ]

  func testLoadedModelsPredictLikeKeras() throws {
    var checked = 0
    for name in Self.models {
      let io = Fixtures.path("keras/\(name).io.h5")
      let x = try TensorFile.read(path: io)
      let outputNames = try TensorFile.datasetNames(path: io).filter { $0 != "x" }.sorted(
        by: numericAwareLess)
      // `.keras` archives are read by AdaFormats' KerasFile (KerasFileTests: the same model).
      for ext in ["h5", "weights.h5"] {
        let path = Fixtures.path("keras/\(name).\(ext)")
        guard FileManager.default.fileExists(atPath: path) else { continue }
        let model = try KerasModelReader.load(path: path)
        let outputs = try Executor(graph: model.graph).predict(x, parameters: model.parameters)
        XCTAssertEqual(outputs.count, outputNames.count, "\(name).\(ext)")
        for (output, dataset) in zip(outputs, outputNames) {
          assertClose(
            output, try TensorFile.read(path: io, dataset: dataset), rtol: 1e-4, "\(name).\(ext) \(dataset)")
        }
        checked += 1
      }
    }
    XCTAssertEqual(
      checked, 20,
      "8 Keras 3 models × 2 formats + 2 × 1 (mobilenet_v3_tiny, efficientnet_tiny: no .weights.h5) + 2 Keras 2 files"
    )
  }

  func testAKerasArchiveIsRefusedNamingTheReaderThatTakesIt() {
    XCTAssertThrowsError(try KerasModelReader.load(path: Fixtures.path("keras/mlp.keras"))) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .unsupported)
      XCTAssertTrue(e.hint?.contains("KerasFile.load") == true, e.description)
    }
  }

  func testWrittenModelsPredictLikeTheOriginals() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    for name in [
      "dag", "mobilenet_tiny", "keras2_dag", "nested_transfer", "nested_deep", "mobilenet_v3_tiny",
      "efficientnet_tiny", "broadcast_ops",
    ] {
      let model = try KerasModelReader.load(path: Fixtures.path("keras/\(name).h5"))
      try KerasModelWriter.save(model, to: dir.path("\(name).h5"))
      let back = try KerasModelReader.load(path: dir.path("\(name).h5"))
      let x = try TensorFile.read(path: Fixtures.path("keras/\(name).io.h5"))
      let a = try Executor(graph: model.graph).predict(x, parameters: model.parameters)
      let b = try Executor(graph: back.graph).predict(x, parameters: back.parameters)
      XCTAssertEqual(a, b, name)
    }
  }
}
