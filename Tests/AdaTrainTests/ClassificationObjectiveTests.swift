import AdaNN
import AdaTensor
import TestSupport
import XCTest

@testable import AdaTrain

final class ClassificationObjectiveTests: XCTestCase {
  // logits [2, 3], labels [2, 0]
  private let logits = Tensor(shape: [2, 3], scalars: [1, 2, 0.5, -1, 0.25, 3])
  private let labels: [Int32] = [2, 0]

  private func softmax(_ t: Tensor) -> Tensor { Activation.softmax.apply(t) }

  func testSplitSoftmaxOutputGetsKerasLossAndTheFusedLogitGradient() {
    let r = ClassificationObjective().evaluate(
      ObjectiveBatch(outputs: [logits], outputsAreLogits: [true], labels: labels), needsGradient: true)
    // Loss: Keras cross-entropy on the probabilities, −½(log p[0,2] + log p[1,0]).
    let p = softmax(logits)
    let expected = -0.5 * (log(Double(p[0, 2])) + log(Double(p[1, 0])))
    XCTAssertEqual(Double(r.loss), expected, accuracy: 1e-6)
    // Gradient: (p − onehot)/N, written out.
    var fused = p.scalars.map { $0 / 2 }
    fused[2] -= 0.5
    fused[3] -= 0.5
    assertClose(r.gradients[0]!.scalars, fused, rtol: 1e-6)
  }

  func testFusedGradientMatchesFiniteDifferencesOfTheLoss() {
    let objective = ClassificationObjective()
    func loss(_ z: Tensor) -> Double {
      Double(
        objective.evaluate(
          ObjectiveBatch(outputs: [z], outputsAreLogits: [true], labels: labels), needsGradient: false
        ).loss)
    }
    let g = objective.evaluate(
      ObjectiveBatch(outputs: [logits], outputsAreLogits: [true], labels: labels), needsGradient: true
    ).gradients[0]!
    let h: Float = 1e-3
    for i in 0..<logits.count {
      var plus = logits, minus = logits
      plus.scalars[i] += h
      minus.scalars[i] -= h
      let numeric = (loss(plus) - loss(minus)) / Double(2 * h)
      XCTAssertEqual(Double(g.scalars[i]), numeric, accuracy: 1e-3, "element \(i)")
    }
  }

  func testOutputsWithoutSoftmaxAreLogitsByDefault() {
    let r = ClassificationObjective().evaluate(
      ObjectiveBatch(outputs: [logits], outputsAreLogits: [false], labels: labels), needsGradient: true)
    let (loss, d) = SoftmaxCrossEntropy().evaluate(logits: logits, labels: labels)
    XCTAssertEqual(r.loss, loss)
    XCTAssertEqual(r.gradients[0], d)
    let noGrad = ClassificationObjective().evaluate(
      ObjectiveBatch(outputs: [logits], outputsAreLogits: [false], labels: labels), needsGradient: false)
    XCTAssertEqual(noGrad.loss, loss, accuracy: 1e-6)
  }

  func testUnsplitOutputsCanBeReadAsProbabilities() {
    let p = softmax(logits)
    let r = ClassificationObjective(unsplitOutputs: .probabilities).evaluate(
      ObjectiveBatch(outputs: [p], outputsAreLogits: [false], labels: labels), needsGradient: true)
    let (loss, d) = CrossEntropyFromProbabilities().evaluate(probabilities: p, labels: labels)
    XCTAssertEqual(r.loss, loss)
    XCTAssertEqual(r.gradients[0], d)
  }

  func testOutputLossesAddWithTheirWeights() {
    let other = Tensor(shape: [2, 3], scalars: [0, 0, 0, 1, 1, 1])
    let batch = ObjectiveBatch(
      outputs: [logits, other, other], outputsAreLogits: [true, true, true], labels: labels)
    let single0 = ClassificationObjective().evaluate(
      ObjectiveBatch(outputs: [logits], outputsAreLogits: [true], labels: labels), needsGradient: true)
    let single1 = ClassificationObjective().evaluate(
      ObjectiveBatch(outputs: [other], outputsAreLogits: [true], labels: labels), needsGradient: true)
    let r = ClassificationObjective(outputWeights: [1, 0.5, 0]).evaluate(batch, needsGradient: true)
    XCTAssertEqual(r.loss, single0.loss + 0.5 * single1.loss, accuracy: 1e-6)
    XCTAssertEqual(r.gradients[0], single0.gradients[0])
    assertClose(r.gradients[1]!.scalars, single1.gradients[0]!.scalars.map { $0 * 0.5 }, rtol: 1e-6)
    XCTAssertNil(r.gradients[2])
  }

  func testDistillationUsesTheTeacherAsSoftTargets() {
    let teacherLogits = Tensor(shape: [2, 3], scalars: [0, 1, 3, 2, 0, 0])
    let weights = DistillationWeights(alpha: 0.7, temperature: 2)
    let (loss, d) = DistillationLoss(temperature: 2, alpha: 0.7).evaluate(
      studentLogits: logits, teacherLogits: teacherLogits, labels: labels)
    for (teacher, isLogits) in [(teacherLogits, true), (softmax(teacherLogits), false)] {
      let r = ClassificationObjective().evaluate(
        ObjectiveBatch(
          outputs: [logits], outputsAreLogits: [true], labels: labels, teacherOutputs: [teacher],
          teacherOutputsAreLogits: [isLogits], distillation: weights),
        needsGradient: true)
      XCTAssertEqual(r.loss, loss, accuracy: 1e-5, "teacher logits: \(isLogits)")
      assertClose(r.gradients[0]!, d, rtol: 1e-5)
    }
  }
}
