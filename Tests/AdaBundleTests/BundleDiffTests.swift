import AdaBundle
import AdaBundleWriter
import XCTest

/// Pairing by genome then latency rank, the gates' verdicts, and the JUnit text, on the
/// fixture manifest (v01 0.81 / 0.35 ms, v02 0.86 / 0.52 ms, v03 0.875 / 0.61 ms).
final class BundleDiffTests: XCTestCase {
  func testSameGenomesPairByGenomeAndTheRestByLatencyRank() {
    let old = BundleFixtures.manifest()
    var new = old
    new.variants[2].genomeKey = "something else"  // v03 re-searched: a new configuration
    new.variants[2].accuracy = 0.86
    new.variants[2].latencyMs = 0.7
    new.variants.remove(at: 0)  // v01 gone
    let d = BundleDiff.compare(old: old, at: "a", new: new, at: "b")
    let byOld = Dictionary(uniqueKeysWithValues: d.pairs.compactMap { p in p.old.map { ($0.id, p) } })
    XCTAssertEqual(byOld["v02"]?.matchedBy, .genome)
    XCTAssertEqual(
      byOld["v01"]?.matchedBy, .latencyRank, "the fastest unpaired old with the fastest unpaired new")
    XCTAssertEqual(byOld["v01"]?.new?.id, "v03")
    XCTAssertEqual(byOld["v03"]?.matchedBy, .unpaired)
    XCTAssertEqual(d.new.variants, 2)
    XCTAssertEqual(d.old.bestAccuracy, 0.875)
    XCTAssertGreaterThan(d.old.hypervolume, d.new.hypervolume, "a worse front in the shared box")
  }

  func testGatesSayWhichFailedAndByHowMuch() {
    let old = BundleFixtures.manifest()
    var new = old
    new.variants[1].accuracy -= 0.004  // v02: −0.4 points
    new.variants[2].latencyMs *= 1.2  // v03: 20 % slower
    let d = BundleDiff.compare(old: old, at: "a", new: new, at: "b")
    let results = BundleGates(maxAccuracyDrop: 0.005, maxLatencyRegression: 0.1, minVariants: 3).evaluate(d)
    XCTAssertEqual(results.map(\.gate), ["max-accuracy-drop", "max-latency-regression", "min-variants"])
    XCTAssertEqual(results.map(\.passed), [true, false, true])
    XCTAssertEqual(results[0].value, 0.004, accuracy: 1e-9)
    XCTAssertEqual(results[1].value, 0.2, accuracy: 1e-9)
    XCTAssertTrue(results[1].message.contains("+20.0 % (v03 → v03)"), results[1].message)
    XCTAssertTrue(BundleGates().evaluate(d).isEmpty, "no gate set, none checked")

    let xml = JUnitReport.xml(suite: "a & b", results: results)
    XCTAssertTrue(xml.contains("<testsuites name=\"a &amp; b\" tests=\"3\" failures=\"1\""), xml)
    XCTAssertEqual(xml.components(separatedBy: "<testcase ").count - 1, 3)
    XCTAssertEqual(xml.components(separatedBy: "<failure ").count - 1, 1)
  }
}
