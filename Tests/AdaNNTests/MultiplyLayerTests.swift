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

  func testMultiplyRejectsShapesThatDoNotBroadcastWithBadShape() {
    XCTAssertEqual(try MultiplyLayer().outputShape(for: [[1, 1, 8], [4, 4, 8]]), [4, 4, 8])
    XCTAssertThrowsError(try MultiplyLayer().outputShape(for: [[3, 8], [4, 4, 8]])) {
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

  func testSqueezeExciteGateScalesEachChannel() {
    // [N, H, W, C] ⊙ [N, 1, 1, C], gate first as in `Multiply()([gate, x])`.
    let x = Tensor(shape: [1, 2, 1, 2], scalars: [1, 2, 3, 4])
    let gate = Tensor(shape: [1, 1, 1, 2], scalars: [0.5, -1])
    XCTAssertEqual(runForward(MultiplyLayer(), [gate, x], []).scalars, [0.5, -2, 1.5, -4])
    XCTAssertEqual(runForward(MultiplyLayer(), [x, gate], []).scalars, [0.5, -2, 1.5, -4])
  }

  func testBroadcastMultiplyBackwardMatchesFiniteDifferences() {
    var g = SeededGenerator(seed: 21)
    let x = Tensor.uniform([2, 3, 2, 4], lo: -1.5, hi: 1.5, using: &g)
    let gate = Tensor.uniform([2, 1, 1, 4], lo: -1.5, hi: 1.5, using: &g)
    let channel = Tensor.uniform([2, 3, 2, 1], lo: -1.5, hi: 1.5, using: &g)
    let vector = Tensor.uniform([2, 4], lo: -1.5, hi: 1.5, using: &g)
    checkGradients(MultiplyLayer(), inputs: [x, gate], params: [])
    checkGradients(MultiplyLayer(), inputs: [gate, x, channel, vector], params: [])
  }

  func testMultiplyBackwardMatchesFiniteDifferences() {
    var g = SeededGenerator(seed: 18)
    let xs = (0..<3).map { _ in Tensor.uniform([2, 2, 3], lo: -1.5, hi: 1.5, using: &g) }
    checkGradients(MultiplyLayer(), inputs: xs, params: [])
  }
}
