import XCTest

final class AdaIOTestsPlaceholder: XCTestCase {
  func testNothing() {}
}
