import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class ReLULayerTests: XCTestCase {
  private let x = Tensor(shape: [1, 5], scalars: [-10, -5, 0, 5, 10])

  private func relu(_ spec: ReLUSpec) -> [Float] { runForward(ReLULayer(spec: spec), [x], []).scalars }

  /// Expected values are the examples in Keras 3's docstrings
  /// (`keras/src/activations/activations.py` `relu`, `keras/src/layers/activations/relu.py`).
  func testReLUMatchesKerasDocumentedExamples() {
    XCTAssertEqual(relu(ReLUSpec()), [0, 0, 0, 5, 10])
    XCTAssertEqual(relu(ReLUSpec(negativeSlope: 0.5)), [-5, -2.5, 0, 5, 10])
    XCTAssertEqual(relu(ReLUSpec(maxValue: 5)), [0, 0, 0, 5, 5])
    XCTAssertEqual(relu(ReLUSpec(threshold: 5)), [0, 0, 0, 0, 10])
    XCTAssertEqual(relu(ReLUSpec(maxValue: 10, negativeSlope: 0.5)), [-5, -2.5, 0, 5, 10])
  }

  func testReLUWithThresholdLeaksRelativeToTheThreshold() {
    // slope · (x − threshold) below the threshold, x above it, capped at maxValue.
    let y = runForward(
      ReLULayer(spec: ReLUSpec(maxValue: 4, negativeSlope: 0.25, threshold: 1)),
      [Tensor(shape: [1, 4], scalars: [-3, 0.5, 2, 7])], [])
    XCTAssertEqual(y.scalars, [-1, -0.125, 2, 4])
  }

  func testReLUBackwardMatchesFiniteDifferences() {
    var g = SeededGenerator(seed: 4)
    // Keep inputs away from the kinks at 0.5 (threshold) and 6 (cap).
    let x = Tensor.uniform([2, 3, 4], lo: -3, hi: 9, using: &g).map { v in
      abs(v - 0.5) < 0.05 || abs(v - 6) < 0.05 ? v + 0.2 : v
    }
    checkGradients(
      ReLULayer(spec: ReLUSpec(maxValue: 6, negativeSlope: 0.1, threshold: 0.5)),
      inputs: [x], params: [])
    checkGradients(ReLULayer(spec: ReLUSpec()), inputs: [x], params: [])
  }

  func testPlainReLUKernelsMatchTheScalarFormulaOnTheSplitPath() {
    // 8-lane SIMD body plus a tail, with exact zeros, split across two workers.
    var g = SeededGenerator(seed: 5)
    var x = Tensor.uniform([3, 37], lo: -2, hi: 2, using: &g)
    for i in stride(from: 0, to: x.count, by: 9) { x.scalars[i] = 0 }
    let dy = Tensor.uniform(x.shape, lo: -1, hi: 1, using: &g)
    let layer = ReLULayer(spec: ReLUSpec())
    let (y, dx, _) = splittingAcrossWorkers { forwardBackward(layer, x, [], dy: { _ in dy }) }
    let expectedY = x.scalars.map { ReLULayer.value($0, maxValue: .infinity, slope: 0, threshold: 0) }
    let expectedDx = zip(x.scalars, dy.scalars).map { v, d in
      d * ReLULayer.derivative(v, maxValue: .infinity, slope: 0, threshold: 0)
    }
    XCTAssertEqual(y.scalars, expectedY)
    XCTAssertEqual(dx.scalars, expectedDx)
  }

  func testReLURejectsNegativeSettingsLikeKeras() {
    XCTAssertThrowsError(try ReLULayer(spec: ReLUSpec(maxValue: -1)).outputShape(for: [[3]]))
    XCTAssertThrowsError(try ReLULayer(spec: ReLUSpec(negativeSlope: -0.1)).outputShape(for: [[3]]))
    XCTAssertThrowsError(try ReLULayer(spec: ReLUSpec(threshold: -1)).outputShape(for: [[3]]))
    XCTAssertEqual(try ReLULayer(spec: ReLUSpec(maxValue: 6)).outputShape(for: [[4, 4, 2]]), [4, 4, 2])
  }
}
