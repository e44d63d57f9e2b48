import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

final class CrossEntropyFromProbabilitiesTests: XCTestCase {
  private let loss = CrossEntropyFromProbabilities()

  private func softmaxOutputs(_ n: Int, _ k: Int, seed: UInt64) -> (logits: Tensor, probs: Tensor) {
    var g = SeededGenerator(seed: seed)
    let z = Tensor.uniform([n, k], lo: -2, hi: 2, using: &g)
    return (z, Activation.softmax.apply(z))
  }

  /// Keras' formula in Double: renormalise each row, clip to [ε, 1 − ε], −log, mean.
  private func reference(_ p: [Double], k: Int, labels: [Int32], epsilon: Double = 1e-7) -> Double {
    let rows = LossReference.rows(p, k: k)
    return zip(rows, labels).reduce(0) { acc, pair in
      let q = pair.0[Int(pair.1)] / pair.0.reduce(0, +)
      return acc - log(min(max(q, epsilon), 1 - epsilon))
    } / Double(rows.count)
  }

  func testUniformProbabilitiesGiveLogK() {
    let p = Tensor(shape: [2, 10], repeating: 0.1)
    XCTAssertEqual(loss.evaluate(probabilities: p, labels: [3, 7]).loss, Float(log(10.0)), accuracy: 1e-5)
  }

  func testLossOnSoftmaxOutputsEqualsCrossEntropyFromLogits() {
    let (z, p) = softmaxOutputs(6, 5, seed: 43)
    let labels: [Int32] = [0, 1, 2, 3, 4, 0]
    XCTAssertEqual(
      loss.evaluate(probabilities: p, labels: labels).loss,
      SoftmaxCrossEntropy().evaluate(logits: z, labels: labels).loss, accuracy: 1e-5)
  }

  func testProbabilityGradientMatchesFiniteDifferences() {
    // Positive rows that do not sum to 1, to exercise Keras' renormalisation too.
    var g = SeededGenerator(seed: 44)
    let p = Tensor.uniform([3, 4], lo: 0.1, hi: 0.9, using: &g)
    let labels: [Int32] = [2, 0, 3]
    let d = loss.evaluate(probabilities: p, labels: labels).dProbabilities
    let numeric = LossReference.numericGradient(LossReference.double(p)) {
      self.reference($0, k: 4, labels: labels)
    }
    assertClose(d.scalars, numeric, rtol: 1e-4)
  }

  func testClippingBoundsTheLossAndStopsTheGradientLikeKeras() {
    let p = Tensor(shape: [1, 3], scalars: [0, 1, 0])
    let (value, d) = loss.evaluate(probabilities: p, labels: [0])
    XCTAssertEqual(value, -logf(1e-7), accuracy: 1e-4)  // ≈ 16.118
    XCTAssertEqual(d.scalars, [0, 0, 0])
    let sure = loss.evaluate(probabilities: p, labels: [1])
    XCTAssertEqual(sure.loss, -logf(1 - 1e-7), accuracy: 1e-6)
  }

  func testFusedLogitGradientEqualsBackpropagationThroughSoftmax() {
    let (z, p) = softmaxOutputs(4, 6, seed: 45)
    let labels: [Int32] = [1, 5, 0, 3]
    let dp = loss.evaluate(probabilities: p, labels: labels).dProbabilities
    let chained = Activation.softmax.backward(dy: dp, x: z, y: p)
    let fused = CrossEntropyFromProbabilities.logitGradient(probabilities: p, labels: labels)
    assertClose(fused, chained, rtol: 1e-5)
  }

  func testFusedLogitGradientMatchesFiniteDifferencesOfTheLoss() {
    let (z, p) = softmaxOutputs(3, 5, seed: 46)
    let labels: [Int32] = [4, 4, 1]
    let fused = CrossEntropyFromProbabilities.logitGradient(probabilities: p, labels: labels)
    let numeric = LossReference.numericGradient(LossReference.double(z)) {
      LossReference.crossEntropy($0, k: 5, labels: labels)
    }
    assertClose(fused.scalars, numeric, rtol: 1e-4)
  }
}
