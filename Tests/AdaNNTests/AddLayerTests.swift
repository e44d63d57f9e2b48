import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class AddLayerTests: XCTestCase {
  func testAddSumsAnyNumberOfInputs() {
    let a = Tensor(shape: [1, 3], scalars: [1, 2, 3])
    let b = Tensor(shape: [1, 3], scalars: [10, 20, 30])
    let c = Tensor(shape: [1, 3], scalars: [100, 200, 300])
    XCTAssertEqual(runForward(AddLayer(), [a, b, c], []).scalars, [111, 222, 333])
    XCTAssertEqual(runForward(AddLayer(), [a], []).scalars, [1, 2, 3])
  }

  func testAddRejectsMismatchedShapesWithBadShape() {
    XCTAssertThrowsError(try AddLayer().outputShape(for: [[4, 4, 8], [4, 4, 16]])) {
      XCTAssertEqual(($0 as? AdaError)?.kind, .badShape)
    }
    XCTAssertThrowsError(try AddLayer().outputShape(for: [])) {
      XCTAssertEqual(($0 as? AdaError)?.kind, .badShape)
    }
    XCTAssertEqual(try AddLayer().outputShape(for: [[4, 4, 8], [4, 4, 8]]), [4, 4, 8])
  }

  func testAddBackwardMatchesFiniteDifferences() {
    var g = SeededGenerator(seed: 17)
    let xs = (0..<3).map { _ in Tensor.uniform([2, 2, 2, 3], lo: -1, hi: 1, using: &g) }
    checkGradients(AddLayer(), inputs: xs, params: [])
  }
}
