import AdaTensor
import XCTest

@testable import AdaCore

final class MemoryBudgetTests: XCTestCase {
  func testSizesParseInPowersOf1024() throws {
    XCTAssertEqual(try MemoryBudget.parse("2GB"), 2 << 30)
    XCTAssertEqual(try MemoryBudget.parse("512mb"), 512 << 20)
    XCTAssertEqual(try MemoryBudget.parse("1.5GiB"), 3 << 29)
    XCTAssertEqual(try MemoryBudget.parse("64K"), 64 << 10)
    XCTAssertEqual(try MemoryBudget.parse("1048576"), 1 << 20)
    for bad in ["", "lots", "-1GB", "0", "2 XB", "nanGB"] {
      XCTAssertThrowsError(try MemoryBudget.parse(bad), bad)
    }
  }

  func testTheDefaultIsHalfOfMemAvailable() {
    XCTAssertEqual(MemoryBudget.memAvailable("MemTotal: 100 kB\nMemAvailable:   2048 kB\n"), 2048 * 1024)
    XCTAssertNil(MemoryBudget.memAvailable("MemTotal: 100 kB\n"))
    XCTAssertGreaterThan(MemoryBudget.defaultLimit, 0)
  }
}
