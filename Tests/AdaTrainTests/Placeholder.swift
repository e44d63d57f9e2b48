import XCTest

final class AdaTrainTestsPlaceholder: XCTestCase {
  func testNothing() {}
}
