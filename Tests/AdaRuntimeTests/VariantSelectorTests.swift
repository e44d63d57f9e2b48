import AdaProfile
import AdaRuntime
import AdaTensor
import XCTest

/// The decision rule on injected contexts, with the realistic test variants:
/// v0 1.0 ms 0.86 · v1 1.8 ms 0.885 · v2 3.0 ms 0.90 · v3 5.0 ms 0.91 (nominal, batch 1).
final class VariantSelectorTests: XCTestCase {
  let variants = TestBundle.profiles()

  func selector(_ policy: Policy = Policy(sloMs: 6)) -> VariantSelector {
    VariantSelector(variants: variants, policy: policy)
  }

  func testSLOMetPicksTheMostAccurateVariant() {
    var s = selector()
    let d = s.select(DeviceContext())
    XCTAssertEqual(d.variant, "v3")
    XCTAssertEqual(d.rule, .best)
    XCTAssertEqual(d.predictedLatencyMs, 5, accuracy: 1e-12)
    XCTAssertFalse(d.switched, "the first decision is not a switch")
    XCTAssertTrue(d.reason.contains("most accurate on time"), d.reason)
  }

  func testCPUShareDropSwitchesDownToTheMostAccurateVariantStillOnTime() {
    var s = selector()
    _ = s.select(DeviceContext())
    // cpu 0.4: v3 12.5 ms, v2 7.5 ms (late), v1 4.5 ms (on time).
    let d = s.select(DeviceContext(cpuShare: 0.4))
    XCTAssertEqual(d.variant, "v1")
    XCTAssertTrue(d.switched)
    XCTAssertEqual(d.previous, "v3")
    XCTAssertEqual(d.predictedLatencyMs, 4.5, accuracy: 1e-9)
    XCTAssertTrue(d.reason.contains("v3 predicted 12.5 ms > SLO 6.00 ms"), d.reason)
  }

  func testThrottledClockCountsLikeALowerCPUShare() {
    var s = selector()
    // freq 0.8 × serious (0.7) = 0.56 effective clock: v3 8.9 ms, v2 5.4 ms.
    let d = s.select(DeviceContext(frequencyScale: 0.8, thermal: .serious))
    XCTAssertEqual(d.variant, "v2")
    XCTAssertEqual(d.predictedLatencyMs, 3 / 0.56, accuracy: 1e-9)
  }

  func testNoVariantOnTimeRunsTheFastestAndSaysSo() {
    var s = selector(Policy(sloMs: 0.5))
    let d = s.select(DeviceContext())
    XCTAssertEqual(d.variant, "v0")
    XCTAssertEqual(d.rule, .fastest)
    XCTAssertFalse(d.onTime)
    XCTAssertTrue(d.reason.contains("no variant meets the SLO"), d.reason)
  }

  func testAccuracyFloorExcludesVariantsEvenWhenTheyAreFaster() {
    var s = selector(Policy(sloMs: 6, accuracyFloor: 0.89))
    // cpu 0.3: only v0 (3.3 ms) is on time, but it is below the floor: the fastest above it, v2.
    let d = s.select(DeviceContext(cpuShare: 0.3))
    XCTAssertEqual(d.variant, "v2")
    XCTAssertEqual(d.rule, .fastest)
  }

  func testMemoryHeadroomExcludesBigVariants() {
    var s = selector(Policy(sloMs: 6, memoryHeadroom: 0.2))
    // 20 MB available, 20% kept free: 16 MB budget. v3 needs 24 MB, v2 12 MB.
    let d = s.select(DeviceContext(memoryAvailableMB: 20))
    XCTAssertEqual(d.variant, "v2")
    XCTAssertTrue(d.fits)
    // 14 MB available: 11.2 MB budget, v2 (12 MB) no longer fits, and switches at once.
    let e = s.select(DeviceContext(memoryAvailableMB: 14))
    XCTAssertEqual(e.variant, "v1")
    XCTAssertTrue(e.switched)
    XCTAssertTrue(e.reason.contains("v2 needs 12.0 MB of 14.0 MB available"), e.reason)
  }

  func testWhenNothingFitsTheVariantNeedingLeastMemoryRuns() {
    var s = selector()
    let d = s.select(DeviceContext(memoryAvailableMB: 1))
    XCTAssertEqual(d.variant, "v0")
    XCTAssertEqual(d.rule, .leastMemory)
    XCTAssertFalse(d.fits)
  }

  func testLowBatteryEnergyWeightFavoursTheLowEnergyVariant() {
    var s = selector(Policy(sloMs: 6, maxEnergyWeight: 0.05))
    XCTAssertEqual(s.select(DeviceContext(batteryLevel: 0.9)).variant, "v3", "full battery: accuracy only")
    s.reset()
    // battery 0.1: w = 0.05; scores v3 0.91 − 0.05 = 0.860, v2 0.90 − 0.05·2.9/4.8 = 0.870.
    let d = s.select(DeviceContext(batteryLevel: 0.1))
    XCTAssertEqual(d.variant, "v2")
    XCTAssertEqual(d.energyWeight, 0.05, accuracy: 1e-12)
    XCTAssertTrue(d.reason.contains("battery 10%"), d.reason)
    s.reset()
    XCTAssertEqual(s.select(DeviceContext()).variant, "v3", "unknown battery (mains): no energy weight")
  }

  func testEnergyWeightRisesLinearlyAsTheBatteryFalls() {
    let p = Policy(maxEnergyWeight: 0.05, batteryHigh: 0.5, batteryLow: 0.1)
    XCTAssertEqual(p.energyWeight(battery: nil), 0)
    XCTAssertEqual(p.energyWeight(battery: 0.8), 0)
    XCTAssertEqual(p.energyWeight(battery: 0.3), 0.025, accuracy: 1e-12)
    XCTAssertEqual(p.energyWeight(battery: 0.05), 0.05)
  }

  /// Upgrades wait for the margin and the dwell: a recovery is taken after 6 decisions (dwell
  /// 3, doubled because v3 was left for being late).
  func testRecoveryUpgradesOnlyAfterTheDwell() {
    var s = selector()
    _ = s.select(DeviceContext())
    XCTAssertEqual(s.select(DeviceContext(cpuShare: 0.4)).variant, "v1")
    let idle = DeviceContext()
    let first = s.select(idle)
    XCTAssertEqual(first.variant, "v1")
    XCTAssertEqual(first.rule, .held)
    XCTAssertTrue(first.reason.hasSuffix("(1/6), holding v1"), "v3 failed once: 3 · 2 = 6; \(first.reason)")
    for _ in 0..<4 { XCTAssertEqual(s.select(idle).variant, "v1") }
    let sixth = s.select(idle)
    XCTAssertEqual(sixth.variant, "v3")
    XCTAssertEqual(sixth.rule, .better)
    XCTAssertTrue(sixth.switched)
  }

  /// Each time v3 is left for being late, the next upgrade back to it waits twice as long.
  func testFlapDampingDoublesTheDwellOfAVariantThatKeepsFailing() {
    var s = selector()
    _ = s.select(DeviceContext())
    var waits: [Int] = []
    for _ in 0..<3 {
      XCTAssertTrue(s.select(DeviceContext(cpuShare: 0.4)).switched, "down at once")
      var n = 0
      while s.select(DeviceContext()).variant != "v3" { n += 1 }
      waits.append(n + 1)
    }
    XCTAssertEqual(waits, [6, 12, 24])
    XCTAssertEqual(s.flaps[3], 3)
    for _ in 0..<VariantSelector.flapForgiveness { _ = s.select(DeviceContext()) }
    XCTAssertEqual(s.flaps[3], 2, "100 on-time decisions forgive one flap")
  }

  /// v3 sits near the SLO (6 ms) while the CPU share wanders between 0.7 and 1.0: the ideal
  /// choice flips every time it crosses 5/6. With hysteresis the selector switches a handful of
  /// times; without, it follows every crossing.
  func testHysteresisPreventsFlappingOnANoisyTrace() {
    var g = SeededGenerator(seed: 7)
    let shares = (0..<400).map { _ in 0.7 + 0.3 * Double(Float.random(in: 0..<1, using: &g)) }
    func switches(_ policy: Policy) -> Int {
      var s = VariantSelector(variants: variants, policy: policy)
      return shares.map { s.select(DeviceContext(cpuShare: $0)) }.filter(\.switched).count
    }
    let with = switches(Policy(sloMs: 6))
    let without = switches(Policy.withoutHysteresis(Policy(sloMs: 6)))
    XCTAssertGreaterThan(without, 100, "the noise crosses the boundary often")
    XCTAssertLessThan(with * 5, without, "hysteresis: \(with) switches, without: \(without)")
  }

  func testMeasuredLatencyCorrectionShiftsTheChoice() {
    var s = selector()
    var d = s.select(DeviceContext())
    XCTAssertEqual(d.variant, "v3")
    // v3 keeps running 1.5× slower than predicted (7.5 ms): the correction crosses the SLO.
    var rounds = 0
    while d.variant == "v3" && rounds < 20 {
      s.record(d, measuredMs: 7.5)
      d = s.select(DeviceContext())
      rounds += 1
    }
    XCTAssertEqual(d.variant, "v2", "after \(rounds) measurements")
    XCTAssertGreaterThan(s.correction(s.index(of: "v3")!), 1.2)
    XCTAssertLessThanOrEqual(rounds, 3)
    XCTAssertEqual(s.biases[2], 1, "v2 has not run")
    // The unmeasured variant inherits the global correction until measured itself.
    XCTAssertEqual(s.correction(s.index(of: "v2")!), s.globalCorrection)
    XCTAssertEqual(d.predictedLatencyMs, 3 * s.globalCorrection, accuracy: 1e-9)
  }

  func testCorrectionIsAMachineFactorTimesASlowPerVariantBiasOfClampedRatios() {
    var s = selector(Policy(sloMs: 6, ewmaAlpha: 0.3, ratioClamp: 0.5...2))
    let d = s.select(DeviceContext())
    s.record(d, measuredMs: 100)  // ratio 20, clamped to 2
    // log g = 0.3 · log 2; log b(v3) = 0.02 · log(2 / g).
    let g = pow(2, 0.3)
    XCTAssertEqual(s.globalCorrection, g, accuracy: 1e-12)
    XCTAssertEqual(s.biases[3], pow(2 / g, 0.02), accuracy: 1e-12)
    XCTAssertEqual(s.correction(3), g * s.biases[3], accuracy: 1e-12)
    XCTAssertEqual(s.correction(0), g, accuracy: 1e-12, "the others follow the machine factor")
    // A speed-up by the same factor cancels the machine factor (geometric mean).
    let e = s.select(DeviceContext())
    s.record(e, measuredMs: e.predictedLatencyMs / e.correction / 2 * s.biases[s.index(of: e.variant)!])
    XCTAssertEqual(s.globalCorrection, pow(g, 0.7) * pow(0.5, 0.3), accuracy: 1e-12)
  }

  /// v3 is measured slow once (a burst of load the monitor missed) and the selector steps down;
  /// v2 then runs at its LUT latency. v3's estimate must not stay stale: it follows the machine
  /// factor back down and v3 is chosen again after the dwell.
  func testEstimateOfAVariantNotRunningDoesNotGoStale() {
    var s = selector()
    var d = s.select(DeviceContext())
    s.record(d, measuredMs: 15)  // ratio 3: g = 3^0.3 = 1.39, v3 predicted 7.0 ms
    d = s.select(DeviceContext())
    XCTAssertEqual(d.variant, "v2", d.reason)
    var chosen: [String] = []
    for _ in 0..<30 {
      s.record(d, measuredMs: d.predictedLatencyMs / d.correction)  // exactly the LUT figure
      d = s.select(DeviceContext())
      chosen.append(d.variant)
    }
    XCTAssertEqual(chosen.last, "v3", "back on the most accurate variant: \(chosen)")
    XCTAssertLessThan(s.correction(3), 1.2)
  }

  func testBatchScalesPredictedLatencyAndMemory() {
    var s = selector(Policy(sloMs: 12, batch: 4, memoryHeadroom: 0))
    // batch 4: v3 20 ms, v2 12 ms (on time). Memory v2: 4 MB weights + 8 MB × 4 = 36 MB.
    let d = s.select(DeviceContext(memoryAvailableMB: 40))
    XCTAssertEqual(d.variant, "v2")
    XCTAssertEqual(d.predictedLatencyMs, 12, accuracy: 1e-9)
    XCTAssertEqual(variants[2].memoryBytes(batch: 4), 36 * 1_048_576)
  }
}
