import XCTest

final class AdaCompressTestsPlaceholder: XCTestCase {
  func testNothing() {}
}
