import AdaTensor
import XCTest

@testable import AdaCompress

/// Threshold calibration against brute force and against hand-solved cases.
final class ThresholdCalibrationTests: XCTestCase {
  /// Two exits; input i's confidences and correctness are hand-made so the optimum is known:
  /// exit 0 is right exactly when its confidence is ≥ 0.8 (4 of 10 inputs), exit 1 is right
  /// when ≥ 0.6 (3 more), the final output is right on all but input 9.
  func observations() -> ExitObservations {
    let c0: [Float] = [0.9, 0.85, 0.8, 0.95, 0.3, 0.4, 0.5, 0.2, 0.1, 0.3]
    let c1: [Float] = [0.9, 0.9, 0.9, 0.9, 0.7, 0.65, 0.6, 0.3, 0.2, 0.1]
    return ExitObservations(
      confidence: [c0, c1], correct: [c0.map { $0 >= 0.8 }, c1.map { $0 >= 0.6 }],
      finalCorrect: (0..<10).map { $0 != 9 })
  }
  let costs = ExitCosts(backbone: [10, 40], head: [1, 2], final: 100)

  func testNoDropUsesBothExitsAtTheirRightThresholds() {
    let o = ThresholdCalibration.calibrate(.accuracyDrop(0), observations(), costs)
    XCTAssertTrue(o.feasible)
    XCTAssertEqual(o.thresholds, [0.8, 0.6])
    XCTAssertEqual(o.correct, 9)
    // 4 leave at exit 0 (11), 3 at exit 1 (43), 3 at the end (103): 44 + 129 + 309 = 482 / 10.
    XCTAssertEqual(o.expectedCost, 48.2, accuracy: 1e-9)
    XCTAssertEqual(o.exitRates, [0.4, 0.3, 0.3])
  }

  func testSwappedCountsTheInputsOnWhichOnlyOneOfPointAndFinalIsRight() {
    // At the no-drop thresholds every exited input is right, as the final output is: none.
    XCTAssertEqual(ThresholdCalibration.evaluate([0.8, 0.6], observations(), costs).swapped, 0)
    // Everyone leaves at exit 0: right on inputs 0–3; 4–8 are wrong there and right at the end
    // (5 swapped); input 9 is wrong at both.
    let all = ThresholdCalibration.evaluate([0, nil], observations(), costs)
    XCTAssertEqual(all.swapped, 5)
    XCTAssertEqual(all.correct, 4)
    // Only exit 1, at 0.6: inputs 0–6 and 9 (made confident and right there) leave. The final
    // output is now wrong on inputs 0 and 9 (two swaps for the point) and exit 1 on input 6
    // (one against): 3 swapped, 9 right against the final output's 8.
    var obs = observations()
    obs.correct[1][9] = true
    obs.confidence[1][9] = 0.95
    obs.finalCorrect[0] = false
    obs.correct[1][6] = false
    let mixed = ThresholdCalibration.evaluate([nil, 0.6], obs, costs)
    XCTAssertEqual(mixed.swapped, 3)
    XCTAssertEqual(mixed.correct, 9)
    XCTAssertEqual(obs.finalCorrect.filter { $0 }.count, 8)
  }

  func testADisabledExitCostsNothing() {
    let o = ThresholdCalibration.evaluate([nil, nil], observations(), costs)
    XCTAssertEqual(o.expectedCost, 100)
    XCTAssertEqual(o.exitRates, [0, 0, 1])
    let one = ThresholdCalibration.evaluate([nil, 0.6], observations(), costs)
    // 7 leave at exit 1 (40 + 2), 3 at the end (100 + 2).
    XCTAssertEqual(one.expectedCost, (7 * 42 + 3 * 102) / 10, accuracy: 1e-9)
  }

  func testBudgetPicksTheMostAccurateAffordableThresholds() {
    // 0.3 × 100 = 30: everyone can leave at exit 0 (cost 11); accuracy is then best when every
    // input exits at 0 except those we can afford to send on.
    let o = ThresholdCalibration.calibrate(.budget(0.3), observations(), costs)
    XCTAssertTrue(o.feasible)
    XCTAssertLessThanOrEqual(o.expectedCost, 30 + 1e-9)
    XCTAssertEqual(o.correct, bruteForce(.budget(0.3), observations(), costs).correct)
    let impossible = ThresholdCalibration.calibrate(.budget(0.05), observations(), costs)
    XCTAssertFalse(impossible.feasible, "even the first exit costs 11 > 5")
  }

  func testMatchesBruteForceOnRandomInstances() {
    var g = SeededGenerator(seed: 11)
    for trial in 0..<12 {
      let k = 1 + trial % 3
      let n = 18
      var conf: [[Float]] = []
      var correct: [[Bool]] = []
      for j in 0..<k {
        var c: [Float] = []
        var r: [Bool] = []
        for _ in 0..<n {
          let v = Float(Int(g.nextUniform() * 20)) / 20
          c.append(v)
          r.append(g.nextUniform() < 0.3 + Float(j) * 0.2 + v * 0.4)
        }
        conf.append(c)
        correct.append(r)
      }
      let obs = ExitObservations(
        confidence: conf, correct: correct, finalCorrect: (0..<n).map { _ in g.nextUniform() < 0.85 })
      let costs = ExitCosts(
        backbone: (0..<k).map { Double(10 + 25 * $0) }, head: (0..<k).map { Double(1 + $0) }, final: 100)
      for target in [
        ThresholdCalibration.Target.accuracyDrop(0), .accuracyDrop(0.1), .budget(0.5), .budget(0.3),
      ] {
        let found = ThresholdCalibration.calibrate(target, obs, costs)
        let best = bruteForce(target, obs, costs)
        XCTAssertEqual(found.feasible, best.feasible, "trial \(trial) \(target)")
        guard best.feasible else { continue }
        switch target {
        case .accuracyDrop:
          XCTAssertEqual(found.expectedCost, best.expectedCost, accuracy: 1e-9, "trial \(trial) \(target)")
        case .budget:
          XCTAssertEqual(found.correct, best.correct, "trial \(trial) \(target)")
        }
      }
    }
  }

  /// Every combination of nil and observed confidences (an independent reference).
  func bruteForce(_ target: ThresholdCalibration.Target, _ obs: ExitObservations, _ costs: ExitCosts)
    -> ThresholdCalibration.Outcome
  {
    let k = obs.exitCount
    let lists: [[Float?]] = (0..<k).map { [nil] + Array(Set(obs.confidence[$0])).sorted().map { $0 } }
    let finalCorrect = obs.finalCorrect.filter { $0 }.count
    var best: ThresholdCalibration.Outcome?
    var bestKey = (2.0, 0.0, 0.0)
    func visit(_ prefix: [Float?]) {
      if prefix.count == k {
        var o = ThresholdCalibration.evaluate(prefix, obs, costs)
        let key: (Double, Double, Double)
        switch target {
        case .accuracyDrop(let d):
          let required = Int((Double(finalCorrect) - d * Double(obs.count) - 1e-9).rounded(.up))
          key = o.correct >= required ? (0, o.expectedCost, -Double(o.correct)) : (1, 0, 0)
        case .budget(let b):
          key =
            o.expectedCost <= b * costs.final * (1 + 1e-12)
            ? (0, -Double(o.correct), o.expectedCost) : (1, 0, 0)
        }
        o.feasible = key.0 == 0
        if best == nil || key < bestKey {
          best = o
          bestKey = key
        }
        return
      }
      for t in lists[prefix.count] { visit(prefix + [t]) }
    }
    visit([])
    return best!
  }
}
