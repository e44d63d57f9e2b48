import AdaBundle
import AdaBundleWriter
import Foundation
import XCTest

/// `report.md`: the tables hold the numbers computed by hand from the fixture.
final class ReportTests: XCTestCase {
  let report = Report.markdown(BundleFixtures.contents())

  func lines(_ text: String) -> [String] { text.components(separatedBy: "\n") }

  func testVariantTableHasOneRowPerVariantWithDerivedColumns() {
    // v02: 0.86 vs source 0.88, 0.52 ms vs 0.7 ms (1.346×), predicted 0.50 (−3.85 %).
    XCTAssertTrue(
      lines(report).contains(
        "| `v02` | conv1: 8-bit; fc: 4-bit | 86.00 % | -2.00 | 0.520 | 1.35× | 0.500 | -3.8 % | 60 | 960 "
          + "| 240 B | 752 B | 2.25 |"), report)
    XCTAssertTrue(
      lines(report).contains(
        "| `v01` | conv1: low-rank:0.5, w=0.5 | 81.00 % | -7.00 | 0.350 | 2.00× | 0.370 | +5.7 % | 30 | 480 "
          + "| 120 B | 632 B | 1.50 |"), report)
    XCTAssertEqual(lines(report).filter { $0.hasPrefix("| `v0") }.count, 3)
  }

  func testBestVariantPerDeviceAndContextSkipsInfeasibleOnes() {
    XCTAssertTrue(
      lines(report).contains(
        "| host | `normal` | measured | `v03`: 87.50 %, 0.610 ms, 2.50 mJ | `v01`: 81.00 %, 0.350 ms, 1.50 mJ |"
      ),
      report)
    // v03 does not fit `busy`: v02 is the most accurate there.
    XCTAssertTrue(
      lines(report).contains(
        "| host | `busy` | measured | `v02`: 86.00 %, 1.04 ms, 4.50 mJ | `v01`: 81.00 %, 0.700 ms, 3.00 mJ |"),
      report)
    XCTAssertTrue(
      lines(report).contains { $0.hasPrefix("| raspberry-pi-4 | `busy` | modelled | `v02`") }, report)
  }

  func testHeaderTimingsSearchOverheadPlotAndNotes() {
    XCTAssertTrue(report.hasPrefix("# tiny-test: adascale bundle\n"))
    XCTAssertTrue(report.contains("2025-01-02T03:04:05Z"))
    XCTAssertTrue(report.contains("| total | 1 h 02 min |"), report)
    XCTAssertTrue(report.contains("| supernet training | 2 min 06 s |"), report)
    XCTAssertTrue(report.contains("| 3 | 96 | 5 | 0.6250 |"), report)
    XCTAssertTrue(report.contains("(1.250× random's)"), report)
    XCTAssertTrue(report.contains("66.97 % less"), report)  // 1 − 125.5 / 380
    XCTAssertTrue(report.contains("](pareto.svg)"))
    XCTAssertTrue(report.contains("[raspberry-pi-4](pareto-raspberry-pi-4.svg)"))
    XCTAssertTrue(report.contains("- Energy is modelled & not measured <RAPL unavailable>."))
  }

  func testOptionalSectionsAreLeftOutWhenAbsent() {
    var contents = BundleFixtures.contents()
    contents.report.overhead = nil
    contents.report.randomSearch = nil
    contents.report.notes = []
    let text = Report.markdown(contents)
    XCTAssertFalse(text.contains("## Training overhead"))
    XCTAssertFalse(text.contains("random search"))
    XCTAssertFalse(text.contains("## Notes"))
  }

  func testTheSameContentsGiveTheSameBytes() {
    XCTAssertEqual(Report.markdown(BundleFixtures.contents()), report)
  }
}
