import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class Pool2DLayerTests: XCTestCase {
  /// `[1, 3, 3, 1]` holding 1…9 in row-major order.
  private let nine = Tensor(shape: [1, 3, 3, 1], scalars: (1...9).map(Float.init))

  /// Distinct values (a shuffled ramp with step 0.05) so max pooling has no ties.
  private func distinct(_ shape: [Int], seed: UInt64) -> Tensor {
    var g = SeededGenerator(seed: seed)
    let ramp = (0..<shape.elementCount).map { Float($0) * 0.05 - 1 }.shuffled(using: &g)
    return Tensor(shape: shape, scalars: ramp)
  }

  private func pool(_ kind: PoolKind, _ k: Size2, _ s: Size2, _ p: Padding) -> Pool2DLayer {
    Pool2DLayer(spec: Pool2DSpec(kind: kind, pool: k, strides: s, padding: p))
  }

  func testAvgPoolSamePaddingDividesByTheValidCountAtCorners() {
    // 3×3 window, stride 1, same: the corner window sees {1, 2, 4, 5}, not 9 values.
    let y = runForward(pool(.average, .square(3), .square(1), .same), [nine], [])
    XCTAssertEqual(y.shape, [1, 3, 3, 1])
    XCTAssertEqual(y[0, 0, 0, 0], 3, accuracy: 1e-6)  // (1+2+4+5)/4
    XCTAssertEqual(y[0, 0, 1, 0], 3.5, accuracy: 1e-6)  // (1+2+3+4+5+6)/6
    XCTAssertEqual(y[0, 1, 1, 0], 5, accuracy: 1e-6)  // all nine
    XCTAssertEqual(y[0, 2, 2, 0], 7, accuracy: 1e-6)  // (5+6+8+9)/4
  }

  func testAvgPoolSamePaddingWithStrideTwoPadsAtTheEnd() {
    // 3 → ceil(3/2) = 2 outputs; pad total 1, all of it after (floor(1/2) = 0 before).
    let y = runForward(pool(.average, .square(2), .square(2), .same), [nine], [])
    XCTAssertEqual(y.shape, [1, 2, 2, 1])
    assertClose(y.scalars, [3, 4.5, 7.5, 9], rtol: 1e-6)
  }

  func testMaxPoolSamePaddingIgnoresThePadding() {
    let negative = nine.map { -$0 }
    let y = runForward(pool(.max, .square(3), .square(2), .same), [negative], [])
    // Pad total 2, one row/column before: windows cover rows/cols {0, 1} and {1, 2}.
    // Were padding counted as 0, every output would be 0.
    XCTAssertEqual(y.shape, [1, 2, 2, 1])
    XCTAssertEqual(y.scalars, [-1, -2, -4, -5])
  }

  func testPoolOutputShapesFollowKerasFormulas() throws {
    XCTAssertEqual(try pool(.max, .square(2), .square(2), .valid).outputShape(for: [[5, 5, 3]]), [2, 2, 3])
    XCTAssertEqual(try pool(.max, .square(2), .square(2), .same).outputShape(for: [[5, 5, 3]]), [3, 3, 3])
    XCTAssertEqual(
      try pool(.average, Size2(3, 1), Size2(2, 1), .valid).outputShape(for: [[7, 4, 1]]), [3, 4, 1])
    XCTAssertThrowsError(try pool(.max, .square(3), .square(1), .valid).outputShape(for: [[2, 5, 1]])) {
      XCTAssertEqual(($0 as? AdaError)?.kind, .badShape)
    }
    XCTAssertThrowsError(try pool(.max, .square(2), .square(2), .valid).outputShape(for: [[5, 5]]))
  }

  func testFastPoolingMatchesThePlainLoopReference() {
    let x = distinct([2, 7, 6, 3], seed: 9)
    var g = SeededGenerator(seed: 10)
    let configs: [(Size2, Size2, Padding)] = [
      (.square(2), .square(2), .valid), (.square(3), .square(2), .same),
      (.square(3), .square(1), .same), (Size2(2, 3), Size2(1, 2), .valid),
      (Size2(3, 2), Size2(3, 1), .same), (.square(1), .square(3), .same),
    ]
    for kind in [PoolKind.max, .average] {
      for (k, s, p) in configs {
        let layer = pool(kind, k, s, p)
        var params: [Tensor] = []
        var ctx = ForwardContext(needsBackward: true)
        let (y, cache) = layer.forward([x], params: &params, context: &ctx)
        let what = "\(kind) \(k) stride \(s) \(p)"
        assertClose(y, layer.referenceForward(x), rtol: 1e-6, what)
        let dy = Tensor.uniform(y.shape, lo: -1, hi: 1, using: &g)
        let dx = layer.backward(dy, cache: cache, params: [], paramGrads: &params)[0]
        assertClose(dx, layer.referenceBackward(x, dy), rtol: 1e-6, what)
      }
    }
  }

  func testInferencePoolingOfFullTwoByTwoWindowsMatchesThePlainLoopReference() {
    // Inference records no argmax, so 2×2 stride-2 windows inside the image take PoolKernels.
    for (shape, padding) in [
      ([2, 8, 6, 3], Padding.valid), ([1, 7, 9, 8], .valid), ([2, 6, 6, 10], .same),
    ] {
      let x = distinct(shape, seed: UInt64(shape[2]))
      for kind in [PoolKind.max, .average] {
        let layer = pool(kind, .square(2), .square(2), padding)
        assertClose(
          runForward(layer, [x], []), layer.referenceForward(x), rtol: 1e-6, "\(kind) \(shape)")
      }
    }
  }

  func testPoolingSplitAcrossWorkersMatchesThePlainLoopReference() {
    let x = distinct([3, 6, 7, 4], seed: 13)
    var g = SeededGenerator(seed: 14)
    for kind in [PoolKind.max, .average] {
      for (k, s, p) in [(Size2.square(2), Size2.square(2), Padding.valid), (.square(3), .square(2), .same)] {
        let layer = pool(kind, k, s, p)
        let dy = Tensor.uniform(layer.referenceForward(x).shape, lo: -1, hi: 1, using: &g)
        Parallel.$workers.withValue(2) {
          Parallel.$minimumWork.withValue(0) {
            var params: [Tensor] = []
            var ctx = ForwardContext(needsBackward: true)
            let (y, cache) = layer.forward([x], params: &params, context: &ctx)
            assertClose(y, layer.referenceForward(x), rtol: 1e-6, "\(kind) \(k) \(p)")
            let dx = layer.backward(dy, cache: cache, params: [], paramGrads: &params)[0]
            assertClose(dx, layer.referenceBackward(x, dy), rtol: 1e-6, "\(kind) \(k) \(p)")
          }
        }
      }
    }
  }

  func testMaxPoolBackwardMatchesFiniteDifferences() {
    let x = distinct([2, 5, 5, 2], seed: 11)
    checkGradients(pool(.max, .square(2), .square(2), .valid), inputs: [x], params: [])
    checkGradients(pool(.max, .square(3), .square(2), .same), inputs: [x], params: [])
  }

  func testAvgPoolBackwardMatchesFiniteDifferences() {
    let x = distinct([2, 5, 4, 2], seed: 12)
    checkGradients(pool(.average, .square(2), .square(2), .valid), inputs: [x], params: [])
    checkGradients(pool(.average, .square(3), .square(2), .same), inputs: [x], params: [])
    checkGradients(pool(.average, Size2(3, 2), .square(1), .same), inputs: [x], params: [])
  }
}
