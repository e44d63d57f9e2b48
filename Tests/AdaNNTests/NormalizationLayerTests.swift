import AdaNN
import AdaTensor
import TestSupport
import XCTest

/// Whole-network agreement with Keras's Normalization (adapted weights, config statistics,
/// `invert`) is checked on the `broadcast_ops` and `efficientnet_tiny` fixtures
/// (KerasModelPredictionTests); these test the layer's own contract.
final class NormalizationLayerTests: XCTestCase {
  let mean = Tensor(shape: [2], scalars: [1, -2])
  let variance = Tensor(shape: [2], scalars: [4, 0.25])

  func testNormalizationSubtractsMeanAndDividesByStandardDeviation() {
    let x = Tensor(shape: [1, 2, 2], scalars: [3, -2, 1, 0])
    let y = runForward(NormalizationLayer(spec: NormalizationSpec()), [x], [mean, variance])
    XCTAssertEqual(y.scalars, [1, 0, 0, 4])
    let back = runForward(NormalizationLayer(spec: NormalizationSpec(invert: true)), [y], [mean, variance])
    XCTAssertEqual(back.scalars, x.scalars, "invert undoes the normalisation")
  }

  func testZeroVarianceIsFlooredAtKerasEpsilon() {
    let x = Tensor(shape: [1, 1], scalars: [1e-7])
    let y = runForward(
      NormalizationLayer(spec: NormalizationSpec()), [x],
      [Tensor(shape: [1], scalars: [0]), Tensor(shape: [1], scalars: [0])])
    XCTAssertEqual(y.scalars[0], 1, accuracy: 1e-6)
  }

  func testStatisticsAreNotTrainable() {
    let specs = NormalizationLayer(spec: NormalizationSpec()).parameters(for: [[4, 4, 3]])
    XCTAssertEqual(specs.map(\.name), ["mean", "variance"])
    XCTAssertEqual(specs.map(\.shape), [[3], [3]])
    XCTAssertTrue(specs.allSatisfy { !$0.trainable })
  }

  func testNormalizationBackwardMatchesFiniteDifferences() {
    var g = SeededGenerator(seed: 23)
    let x = Tensor.uniform([2, 3, 2], lo: -2, hi: 2, using: &g)
    checkGradients(NormalizationLayer(spec: NormalizationSpec()), inputs: [x], params: [mean, variance])
    checkGradients(
      NormalizationLayer(spec: NormalizationSpec(invert: true)), inputs: [x], params: [mean, variance])
  }
}
