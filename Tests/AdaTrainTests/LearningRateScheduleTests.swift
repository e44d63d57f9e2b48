import AdaTensor
import TestSupport
import XCTest

@testable import AdaTrain

final class LearningRateScheduleTests: XCTestCase {
  func testConstantScheduleNeverChanges() {
    let s = LearningRateSchedule.constant(0.01)
    XCTAssertEqual(s.learningRate(at: 0), 0.01)
    XCTAssertEqual(s.learningRate(at: 123_456), 0.01)
  }

  func testStepDecayDropsByTheFactorEveryInterval() {
    // 0.1 · 0.5^⌊step / 10⌋
    let s = LearningRateSchedule.stepDecay(initial: 0.1, every: 10, factor: 0.5)
    assertClose(
      [0, 9, 10, 19, 25].map { s.learningRate(at: $0) }, [0.1, 0.1, 0.05, 0.05, 0.025], rtol: 1e-7)
  }

  func testCosineDecaysToTheFloorAndStaysThere() {
    // 0.001 + 0.099 · ½(1 + cos(π·s/100))
    //   s = 0: 0.1;  s = 25: 0.001 + 0.0495·(1 + 0.7071068) = 0.0855018;  s = 50: 0.0505
    //   s = 100 and beyond: 0.001
    let s = LearningRateSchedule.cosine(initial: 0.1, decaySteps: 100, floor: 0.001)
    assertClose(
      [0, 25, 50, 100, 250].map { s.learningRate(at: $0) }, [0.1, 0.0855018, 0.0505, 0.001, 0.001], rtol: 1e-6
    )
  }

  func testWarmupRisesLinearlyThenHandsOverToTheDecay() {
    // warm-up 10 steps from 0.02 to 0.1: 0.02 + 0.08·step/10;  then cosine with s = step − 10.
    let s = LearningRateSchedule.cosine(initial: 0.1, decaySteps: 100, floor: 0.001).withWarmup(
      steps: 10, from: 0.02)
    assertClose(
      [0, 5, 9, 10, 35, 60, 110].map { s.learningRate(at: $0) },
      [0.02, 0.06, 0.092, 0.1, 0.0855018, 0.0505, 0.001], rtol: 1e-6)
    // Without a start value the warm-up begins at 0, as Keras's CosineDecay warm-up does.
    XCTAssertEqual(LearningRateSchedule.constant(0.4).withWarmup(steps: 4).learningRate(at: 1), 0.1)
  }

  func testScheduleIsAPureFunctionOfStep() {
    let s = LearningRateSchedule.stepDecay(initial: 1, every: 3, factor: 0.1).withWarmup(steps: 2)
    let forward = (0..<20).map { s.learningRate(at: $0) }
    let backward = (0..<20).reversed().map { s.learningRate(at: $0) }.reversed()
    XCTAssertEqual(forward, Array(backward))
  }

  func testInvalidSchedulesNameTheField() {
    XCTAssertThrowsError(try LearningRateSchedule.stepDecay(initial: 0.1, every: 0, factor: 0.5).validate()) {
      e in
      XCTAssertEqual((e as? AdaError)?.path, "schedule.every")
    }
    XCTAssertThrowsError(try LearningRateSchedule.cosine(initial: 0.1, decaySteps: 10, floor: 0.5).validate())
    { e in
      XCTAssertEqual((e as? AdaError)?.path, "schedule.floor")
    }
    XCTAssertNoThrow(
      try LearningRateSchedule.cosine(initial: 0.1, decaySteps: 10).withWarmup(steps: 3).validate())
  }
}
