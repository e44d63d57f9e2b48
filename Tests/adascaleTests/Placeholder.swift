import XCTest

final class adascaleTestsPlaceholder: XCTestCase {
  func testNothing() {}
}
