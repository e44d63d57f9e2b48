import AdaProfile
import AdaRuntime
import XCTest

/// The tail-aware SLO: the margin is the chosen percentile of measured/predicted over the
/// latest calls, it makes the rule step down when latencies spread, and it never leaks into the
/// mean correction. Variants as in `VariantSelectorTests`: v0 1.0 · v1 1.8 · v2 3.0 · v3 5.0 ms.
final class VariantSelectorTailTests: XCTestCase {
  let variants = TestBundle.profiles()

  func testMarginIsTheNearestRankPercentileWithinItsBounds() {
    let ratios = (1...20).map { Double($0) / 10 }  // 0.1 … 2.0
    XCTAssertEqual(VariantSelector.margin(ratios, percentile: 0.95, bounds: 1...4), 1.9, accuracy: 1e-12)
    XCTAssertEqual(VariantSelector.margin(ratios, percentile: 0.5, bounds: 1...4), 1.0, accuracy: 1e-12)
    XCTAssertEqual(VariantSelector.margin(ratios, percentile: 0.5, bounds: 1.2...4), 1.2, "lower bound")
    XCTAssertEqual(VariantSelector.margin(ratios.map { $0 * 3 }, percentile: 0.95, bounds: 1...4), 4, "cap")
    XCTAssertEqual(
      VariantSelector.margin([3, 3, 3], percentile: 0.95, bounds: 1...4), 1, "too few calls yet")
  }

  /// Every call of v3 takes its LUT time except one in ten, which takes 1.6× (preempted): on
  /// average on time (SLO 6, mean 5.3 ms), but its p95 is 8 ms. The mean rule stays on v3 and
  /// is late 10 % of the time; the p95 rule steps down to v2.
  func testSpreadLatenciesMakeThePercentileRuleStepDown() {
    func run(_ policy: Policy) -> (last: String, margin: Double) {
      var s = VariantSelector(variants: variants, policy: policy)
      var d = s.select(DeviceContext())
      for i in 0..<60 {
        let raw = d.predictedLatencyMs / d.correction / d.tailMargin
        s.record(d, measuredMs: raw * (i % 10 == 9 ? 1.6 : 1.0))
        d = s.select(DeviceContext())
      }
      return (d.variant, s.tailMargin)
    }
    let mean = run(Policy(sloMs: 6, ratioClamp: 0.2...5))
    XCTAssertEqual(mean.last, "v3")
    XCTAssertEqual(mean.margin, 1)
    let tail = run(Policy(sloMs: 6, sloPercentile: 0.95, tailWindow: 40))
    XCTAssertEqual(tail.last, "v2", "p95 of v3 is ~8 ms > 6")
    XCTAssertGreaterThan(tail.margin, 1.3)
  }

  /// The margin is divided out before the EWMA: the same measurements move the correction the
  /// same way with and without a percentile.
  func testMarginDoesNotLeakIntoTheCorrection() {
    var plain = VariantSelector(variants: variants, policy: Policy(sloMs: 60))
    var tail = VariantSelector(variants: variants, policy: Policy(sloMs: 60, sloPercentile: 0.9))
    for i in 0..<30 {
      let measured = 5.0 * (i % 3 == 0 ? 2 : 1)
      let a = plain.select(DeviceContext())
      plain.record(a, measuredMs: measured)
      let b = tail.select(DeviceContext())
      XCTAssertEqual(a.variant, b.variant)
      tail.record(b, measuredMs: measured)
    }
    XCTAssertEqual(plain.globalCorrection, tail.globalCorrection, accuracy: 1e-12)
    XCTAssertGreaterThan(tail.tailMargin, 1.5)
    let d = tail.select(DeviceContext())
    XCTAssertTrue(d.reason.contains("at p90 (margin"), d.reason)
    XCTAssertEqual(d.predictedLatencyMs, 5 * tail.correction(3) * tail.tailMargin, accuracy: 1e-9)
  }
}
