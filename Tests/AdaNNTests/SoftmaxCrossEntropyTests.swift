import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

final class SoftmaxCrossEntropyTests: XCTestCase {
  private let loss = SoftmaxCrossEntropy()

  private func logits(_ n: Int, _ k: Int, seed: UInt64, scale: Float = 3) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.uniform([n, k], lo: -scale, hi: scale, using: &g)
  }

  func testUniformLogitsGiveLogK() {
    for k in [2, 10, 1000] {
      let (value, d) = loss.evaluate(
        logits: Tensor(shape: [3, k], repeating: 0.7), labels: [0, 1, Int32(k - 1)])
      XCTAssertEqual(value, Float(log(Double(k))), accuracy: 1e-5, "K = \(k)")
      // d = (1/K − onehot) / N
      XCTAssertEqual(d[1, 0], 1 / Float(k) / 3, accuracy: 1e-7)
      XCTAssertEqual(d[1, 1], (1 / Float(k) - 1) / 3, accuracy: 1e-7)
    }
  }

  func testLossMatchesTheDoublePrecisionFormula() {
    let z = logits(5, 7, seed: 40)
    let labels: [Int32] = [0, 6, 3, 3, 1]
    let expected = LossReference.crossEntropy(LossReference.double(z), k: 7, labels: labels)
    XCTAssertEqual(Double(loss.evaluate(logits: z, labels: labels).loss), expected, accuracy: 1e-6)
    XCTAssertEqual(Double(loss.loss(logits: z, labels: labels)), expected, accuracy: 1e-6)
  }

  func testLogitGradientMatchesFiniteDifferences() {
    let z = logits(4, 6, seed: 41)
    let labels: [Int32] = [5, 0, 2, 2]
    let d = loss.evaluate(logits: z, labels: labels).dLogits
    let numeric = LossReference.numericGradient(LossReference.double(z)) {
      LossReference.crossEntropy($0, k: 6, labels: labels)
    }
    assertClose(d.scalars, numeric, rtol: 1e-4)
  }

  func testGradientRowsSumToZero() {
    let d = loss.evaluate(logits: logits(3, 5, seed: 42), labels: [1, 2, 4]).dLogits
    for r in 0..<3 {
      XCTAssertEqual((0..<5).reduce(Float(0)) { $0 + d[r, $1] }, 0, accuracy: 1e-7)
    }
  }

  func testLargeLogitsStayFinite() {
    let z = Tensor(shape: [2, 3], scalars: [1000, -1000, 0, 1000, -1000, 0])
    let (value, d) = loss.evaluate(logits: z, labels: [0, 1])
    // Row 0: label holds the max → 0. Row 1: logΣexp = 1000, label logit −1000 → 2000.
    XCTAssertEqual(value, 1000, accuracy: 1e-3)
    XCTAssertFalse(d.hasNonFinite)
  }

  func testValidateRejectsLabelsOutsideTheClassRange() {
    XCTAssertNoThrow(try SoftmaxCrossEntropy.validate(labels: [0, 9, 3], classCount: 10))
    XCTAssertThrowsError(try SoftmaxCrossEntropy.validate(labels: [0, 10], classCount: 10)) {
      XCTAssertEqual(($0 as? AdaError)?.kind, .invalidValue)
      XCTAssertEqual(($0 as? AdaError)?.path, "labels[1]")
    }
    XCTAssertThrowsError(try SoftmaxCrossEntropy.validate(labels: [-1], classCount: 10))
  }
}
