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

  func testAddRejectsShapesThatDoNotBroadcastWithBadShape() {
    XCTAssertThrowsError(try AddLayer().outputShape(for: [[4, 4, 8], [4, 4, 16]])) {
      XCTAssertEqual(($0 as? AdaError)?.kind, .badShape)
    }
    XCTAssertThrowsError(try AddLayer().outputShape(for: [])) {
      XCTAssertEqual(($0 as? AdaError)?.kind, .badShape)
    }
    XCTAssertEqual(try AddLayer().outputShape(for: [[4, 4, 8], [4, 4, 8]]), [4, 4, 8])
  }

  func testAddBroadcastsLikeKeras() throws {
    // [H, W, C] + [1, 1, C] + [C] (lower rank, aligned at the last axis) + [H, W, 1].
    XCTAssertEqual(try AddLayer().outputShape(for: [[2, 2, 3], [1, 1, 3], [3], [2, 2, 1]]), [2, 2, 3])
    let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
    let row = Tensor(shape: [1, 2], scalars: [10, 20])
    let column = Tensor(shape: [1, 1, 2, 1], scalars: [100, 200])
    XCTAssertEqual(runForward(AddLayer(), [x, row, column], []).scalars, [111, 122, 213, 224])
  }

  func testBroadcastAddBackwardSumsOverBroadcastAxes() {
    var g = SeededGenerator(seed: 19)
    let x = Tensor.uniform([2, 3, 2, 4], lo: -1, hi: 1, using: &g)
    let gate = Tensor.uniform([2, 1, 1, 4], lo: -1, hi: 1, using: &g)
    let vector = Tensor.uniform([2, 4], lo: -1, hi: 1, using: &g)
    let channel = Tensor.uniform([2, 3, 2, 1], lo: -1, hi: 1, using: &g)
    checkGradients(AddLayer(), inputs: [gate, x, vector, channel], params: [])
  }

  func testAddBackwardMatchesFiniteDifferences() {
    var g = SeededGenerator(seed: 17)
    let xs = (0..<3).map { _ in Tensor.uniform([2, 2, 2, 3], lo: -1, hi: 1, using: &g) }
    checkGradients(AddLayer(), inputs: xs, params: [])
  }
}
