import XCTest

final class AdaNNTestsPlaceholder: XCTestCase {
  func testNothing() {}
}
