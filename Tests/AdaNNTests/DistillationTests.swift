import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

final class DistillationTests: XCTestCase {
  private func logits(_ n: Int, _ k: Int, seed: UInt64, scale: Float = 2) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.uniform([n, k], lo: -scale, hi: scale, using: &g)
  }

  /// The documented formula in Double:
  /// (1/N) Σ_n [α T² Σ_k P log(P / Q) + (1 − α) CE(student_n, y_n)], P, Q softened by T.
  private func reference(
    student: [Double], teacher: [Double], k: Int, labels: [Int32], t: Double, alpha: Double
  ) -> Double {
    let s = LossReference.rows(student, k: k)
    let te = LossReference.rows(teacher, k: k)
    var kl = 0.0
    for (sr, tr) in zip(s, te) {
      let p = LossReference.softmax(tr.map { $0 / t })
      let q = LossReference.softmax(sr.map { $0 / t })
      kl += zip(p, q).reduce(0) { $0 + $1.0 * log($1.0 / $1.1) }
    }
    let ce = LossReference.crossEntropy(student, k: k, labels: labels)
    return alpha * t * t * kl / Double(s.count) + (1 - alpha) * ce
  }

  func testAlphaZeroEqualsCrossEntropy() {
    let s = logits(4, 5, seed: 50)
    let labels: [Int32] = [0, 4, 2, 2]
    let (value, d) = DistillationLoss(temperature: 4, alpha: 0)
      .evaluate(studentLogits: s, teacherLogits: logits(4, 5, seed: 51), labels: labels)
    let (ce, dce) = SoftmaxCrossEntropy().evaluate(logits: s, labels: labels)
    XCTAssertEqual(value, ce, accuracy: 1e-6)
    assertClose(d, dce, rtol: 1e-6)
  }

  func testMatchingTeacherGivesZeroDistillationTerm() {
    let s = logits(3, 6, seed: 52)
    let (value, d) = DistillationLoss(temperature: 3, alpha: 1)
      .evaluate(studentLogits: s, teacherLogits: s, labels: nil)
    XCTAssertEqual(value, 0, accuracy: 1e-6)
    XCTAssertLessThan(d.maxAbs, 1e-7)
  }

  func testTeacherProbabilitiesCanStandInForTeacherLogits() {
    let (s, t) = (logits(3, 5, seed: 59), logits(3, 5, seed: 60, scale: 4))
    let labels: [Int32] = [0, 2, 4]
    let loss = DistillationLoss(temperature: 2.5, alpha: 0.8)
    let fromLogits = loss.evaluate(studentLogits: s, teacherLogits: t, labels: labels)
    let fromProbs = loss.evaluate(
      studentLogits: s,
      teacherLogits: DistillationLoss.teacherLogits(fromProbabilities: Activation.softmax.apply(t)),
      labels: labels)
    XCTAssertEqual(fromProbs.loss, fromLogits.loss, accuracy: 1e-5)
    assertClose(fromProbs.dStudentLogits, fromLogits.dStudentLogits, rtol: 1e-5)
  }

  func testLossMatchesTheDocumentedFormula() {
    let (s, t) = (logits(5, 4, seed: 53), logits(5, 4, seed: 54, scale: 4))
    let labels: [Int32] = [3, 0, 1, 1, 2]
    for (temperature, alpha) in [(1.0, 0.5), (2.0, 0.7), (5.0, 1.0)] {
      let value = DistillationLoss(temperature: Float(temperature), alpha: Float(alpha))
        .evaluate(studentLogits: s, teacherLogits: t, labels: labels).loss
      let expected = reference(
        student: LossReference.double(s), teacher: LossReference.double(t), k: 4, labels: labels,
        t: temperature, alpha: alpha)
      XCTAssertEqual(
        Double(value), expected, accuracy: 1e-5 * max(1, abs(expected)), "T \(temperature), α \(alpha)")
    }
  }

  func testStudentGradientMatchesFiniteDifferences() {
    let (s, t) = (logits(3, 5, seed: 55), logits(3, 5, seed: 56, scale: 3))
    let labels: [Int32] = [4, 1, 0]
    let d = DistillationLoss(temperature: 3, alpha: 0.6)
      .evaluate(studentLogits: s, teacherLogits: t, labels: labels).dStudentLogits
    let teacher = LossReference.double(t)
    let numeric = LossReference.numericGradient(LossReference.double(s)) {
      self.reference(student: $0, teacher: teacher, k: 5, labels: labels, t: 3, alpha: 0.6)
    }
    assertClose(d.scalars, numeric, rtol: 1e-4)
  }

  func testTemperatureSquaredKeepsTheSoftGradientScaleAtHighTemperature() {
    // For T ≫ |logits| and zero-mean rows, softmax(z/T) ≈ (1 + z/T)/K, so the T²-scaled KL
    // gradient tends to (student − teacher) / (K · N), independent of T (Hinton et al. §2.1).
    // Without the T² factor it would shrink as 1/T².
    func zeroMean(_ x: Tensor) -> Tensor {
      var y = x
      let k = x.shape[1]
      for r in 0..<x.shape[0] {
        let m = (0..<k).reduce(Float(0)) { $0 + x[r, $1] } / Float(k)
        for c in 0..<k { y[r, c] -= m }
      }
      return y
    }
    let (s, t) = (zeroMean(logits(2, 4, seed: 57, scale: 1)), zeroMean(logits(2, 4, seed: 58, scale: 1)))
    var expected = s
    expected.add(t, scaledBy: -1)
    expected.scale(by: 1 / Float(4 * 2))
    for temperature: Float in [50, 200] {
      let d = DistillationLoss(temperature: temperature, alpha: 1)
        .evaluate(studentLogits: s, teacherLogits: t, labels: nil).dStudentLogits
      assertClose(d, expected, rtol: 0.03, "T = \(temperature)")
    }
  }
}
