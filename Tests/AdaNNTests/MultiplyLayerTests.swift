import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class MultiplyLayerTests: XCTestCase {
  func testMultiplyTakesTheElementwiseProduct() {
    let a = Tensor(shape: [1, 3], scalars: [1, 2, 3])
    let b = Tensor(shape: [1, 3], scalars: [4, 5, 6])
    let c = Tensor(shape: [1, 3], scalars: [-1, 0, 2])
    XCTAssertEqual(runForward(MultiplyLayer(), [a, b, c], []).scalars, [-4, 0, 36])
  }

  func testMultiplyRejectsMismatchedShapesWithBadShape() {
    XCTAssertThrowsError(try MultiplyLayer().outputShape(for: [[1, 1, 8], [4, 4, 8]])) {
      XCTAssertEqual(($0 as? AdaError)?.kind, .badShape)
    }
  }

  func testMultiplyBackwardIsExactWhereAnInputIsZero() {
    // dx_0 = dy · x_1 · x_2 even where x_0 = 0 (no division by the output).
    let a = Tensor(shape: [1, 2], scalars: [0, 2])
    let b = Tensor(shape: [1, 2], scalars: [3, 0])
    let c = Tensor(shape: [1, 2], scalars: [5, 7])
    var p: [Tensor] = []
    var ctx = ForwardContext(needsBackward: true)
    let layer = MultiplyLayer()
    let (_, cache) = layer.forward([a, b, c], params: &p, context: &ctx)
    let dy = Tensor(shape: [1, 2], scalars: [1, 1])
    let grads = layer.backward(dy, cache: cache, params: [], paramGrads: &p)
    XCTAssertEqual(grads.map(\.scalars), [[15, 0], [0, 14], [0, 0]])
  }

  func testMultiplyBackwardMatchesFiniteDifferences() {
    var g = SeededGenerator(seed: 18)
    let xs = (0..<3).map { _ in Tensor.uniform([2, 2, 3], lo: -1.5, hi: 1.5, using: &g) }
    checkGradients(MultiplyLayer(), inputs: xs, params: [])
  }
}
