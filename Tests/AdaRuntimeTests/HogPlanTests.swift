import AdaRuntime
import XCTest

/// How many hogs, how busy, for a CPU share: the closed form against enumeration, and the plans
/// for the shares the sample traces ask on a 2-core machine.
final class HogPlanTests: XCTestCase {
  /// `s(n, d)` against enumerating every on/off pattern of the hogs.
  func testExpectedShareMatchesEnumeration() {
    for (n, d, cores) in [(3, 0.3, 2), (4, 0.75, 2), (2, 0.5, 4), (5, 1.0, 2)] {
      var total = 0.0
      for mask in 0..<(1 << n) {
        let k = mask.nonzeroBitCount
        let p = pow(d, Double(k)) * pow(1 - d, Double(n - k))
        total += p * min(1, Double(cores) / Double(k + 1))
      }
      XCTAssertEqual(HogPlan.expected(hogs: n, duty: d, cores: cores, threads: 1), total, accuracy: 1e-12)
    }
  }

  func testPlansForTheTracesShares() {
    let idle = HogPlan.forShare(1, cores: 2, maxHogs: 8)
    XCTAssertEqual(idle.hogs, 0)
    // Two full hogs beside us on 2 cores: 2/3 each.
    let twoHogs = HogPlan.forShare(2.0 / 3, cores: 2, maxHogs: 8)
    XCTAssertEqual(twoHogs.hogs, 2)
    XCTAssertEqual(twoHogs.duty, 1, accuracy: 1e-6)
    // 0.3: at least 6 busy hogs would be needed at full duty (2/7 < 0.3 < 2/6).
    let busy = HogPlan.forShare(0.3, cores: 2, maxHogs: 8)
    XCTAssertEqual(busy.hogs, 6)
    XCTAssertEqual(busy.expectedShare, 0.3, accuracy: 1e-6)
    XCTAssertTrue(busy.reachable)
    let half = HogPlan.forShare(0.8, cores: 2, maxHogs: 8)
    XCTAssertEqual(half.hogs, 2)
    XCTAssertEqual(half.expectedShare, 0.8, accuracy: 1e-6)
    XCTAssertGreaterThan(half.duty, 0)
    XCTAssertLessThan(half.duty, 1)
  }

  func testAShareBeyondTheHogsIsSaidToBeUnreachable() {
    let plan = HogPlan.forShare(0.05, cores: 2, maxHogs: 8)
    XCTAssertFalse(plan.reachable)
    XCTAssertEqual(plan.hogs, 8)
    XCTAssertEqual(plan.expectedShare, 2.0 / 9, accuracy: 1e-12)
  }
}
