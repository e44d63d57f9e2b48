import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class ConcatenateLayerTests: XCTestCase {
  private func concat(_ axis: Int) -> ConcatenateLayer { ConcatenateLayer(spec: ConcatenateSpec(axis: axis)) }

  /// Concatenation by the definition: copy each input element to its shifted position.
  private func reference(_ xs: [Tensor], axis: Int) -> Tensor {
    let full = axis < 0 ? axis + xs[0].rank : axis + 1
    var shape = xs[0].shape
    shape[full] = xs.reduce(0) { $0 + $1.shape[full] }
    var y = Tensor(shape: shape)
    var shift = 0
    for x in xs {
      for i in 0..<x.count {
        var index: [Int] = []
        var rest = i
        for d in x.shape.reversed() {
          index.insert(rest % d, at: 0)
          rest /= d
        }
        index[full] += shift
        y.scalars[y.offset(index)] = x.scalars[i]
      }
      shift += x.shape[full]
    }
    return y
  }

  func testConcatenateShapeContractCountsAxesPerExample() throws {
    XCTAssertEqual(try concat(-1).outputShape(for: [[8, 8, 16], [8, 8, 48]]), [8, 8, 64])
    XCTAssertEqual(try concat(2).outputShape(for: [[8, 8, 16], [8, 8, 48]]), [8, 8, 64])
    XCTAssertEqual(try concat(0).outputShape(for: [[3, 8, 4], [5, 8, 4]]), [8, 8, 4])
    XCTAssertEqual(try concat(-3).outputShape(for: [[3, 8, 4], [5, 8, 4]]), [8, 8, 4])
    XCTAssertThrowsError(try concat(-1).outputShape(for: [[8, 8, 16], [4, 4, 16]])) {
      XCTAssertEqual(($0 as? AdaError)?.kind, .badShape)
    }
    XCTAssertThrowsError(try concat(3).outputShape(for: [[8, 8, 16], [8, 8, 16]]))
  }

  func testConcatenateForwardMatchesThePlainLoop() {
    var g = SeededGenerator(seed: 19)
    for axis in [-1, 0, 1] {
      let xs = [2, 3, 1].map { size -> Tensor in
        var shape = [2, 3, 4, 2]
        shape[axis < 0 ? 3 : axis + 1] = size
        return Tensor.uniform(shape, lo: -1, hi: 1, using: &g)
      }
      XCTAssertEqual(runForward(concat(axis), xs, []), reference(xs, axis: axis), "axis \(axis)")
    }
  }

  func testConcatenateOnChannelsBackwardMatchesFiniteDifferences() {
    var g = SeededGenerator(seed: 20)
    let a = Tensor.uniform([2, 2, 3, 2], lo: -1, hi: 1, using: &g)
    let b = Tensor.uniform([2, 2, 3, 3], lo: -1, hi: 1, using: &g)
    checkGradients(concat(-1), inputs: [a, b], params: [])
  }

  func testConcatenateOnHeightBackwardMatchesFiniteDifferences() {
    var g = SeededGenerator(seed: 21)
    let a = Tensor.uniform([2, 1, 3, 2], lo: -1, hi: 1, using: &g)
    let b = Tensor.uniform([2, 3, 3, 2], lo: -1, hi: 1, using: &g)
    checkGradients(concat(0), inputs: [a, b], params: [])
  }
}
