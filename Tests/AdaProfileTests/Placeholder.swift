import XCTest

final class AdaProfileTestsPlaceholder: XCTestCase {
  func testNothing() {}
}
