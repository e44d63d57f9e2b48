import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class ZeroPadding2DLayerTests: XCTestCase {
  private let layer = ZeroPadding2DLayer(spec: ZeroPadding2DSpec(top: 1, bottom: 0, left: 2, right: 1))

  func testZeroPaddingPlacesTheInputInsideAZeroBorder() {
    let x = Tensor(shape: [1, 2, 2, 1], scalars: [1, 2, 3, 4])
    let y = runForward(layer, [x], [])
    XCTAssertEqual(y.shape, [1, 3, 5, 1])
    XCTAssertEqual(
      y.scalars,
      [
        0, 0, 0, 0, 0,
        0, 0, 1, 2, 0,
        0, 0, 3, 4, 0,
      ])
  }

  func testZeroPaddingShapeContract() throws {
    XCTAssertEqual(try layer.outputShape(for: [[224, 224, 3]]), [225, 227, 3])
    XCTAssertThrowsError(try layer.outputShape(for: [[224, 3]]))
    XCTAssertThrowsError(
      try ZeroPadding2DLayer(spec: ZeroPadding2DSpec(top: -1, bottom: 0, left: 0, right: 0))
        .outputShape(for: [[4, 4, 1]]))
  }

  func testZeroPaddingBackwardMatchesFiniteDifferences() {
    var g = SeededGenerator(seed: 16)
    let x = Tensor.uniform([2, 3, 2, 3], lo: -1, hi: 1, using: &g)
    checkGradients(layer, inputs: [x], params: [])
  }
}
