import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class GlobalPool2DLayerTests: XCTestCase {
  /// `[2, 2, 3, 2]`: example b, position (h, w), channel c holds `100b + 10c + 3h + w` (distinct).
  private let x: Tensor = {
    var t = Tensor(shape: [2, 2, 3, 2])
    for b in 0..<2 {
      for h in 0..<2 {
        for w in 0..<3 {
          for c in 0..<2 {
            t[b, h, w, c] = Float(100 * b + 10 * c + 3 * h + w)
          }
        }
      }
    }
    return t
  }()

  func testGlobalAveragePoolingAveragesEachChannelPlane() {
    let y = runForward(GlobalPool2DLayer(spec: GlobalPool2DSpec(kind: .average)), [x], [])
    // Mean of 3h + w over h ∈ {0, 1}, w ∈ {0, 1, 2} is 2.5.
    XCTAssertEqual(y.shape, [2, 2])
    assertClose(y.scalars, [2.5, 12.5, 102.5, 112.5], rtol: 1e-6)
  }

  func testGlobalMaxPoolingTakesEachChannelMaximum() {
    let y = runForward(GlobalPool2DLayer(spec: GlobalPool2DSpec(kind: .max, keepDims: true)), [x], [])
    XCTAssertEqual(y.shape, [2, 1, 1, 2])
    XCTAssertEqual(y.scalars, [5, 15, 105, 115])
  }

  func testGlobalPoolingShapeContract() throws {
    let avg = GlobalPool2DLayer(spec: GlobalPool2DSpec(kind: .average))
    XCTAssertEqual(try avg.outputShape(for: [[7, 7, 32]]), [32])
    XCTAssertEqual(
      try GlobalPool2DLayer(spec: GlobalPool2DSpec(kind: .max, keepDims: true)).outputShape(for: [[7, 7, 32]]
      ),
      [1, 1, 32])
    XCTAssertThrowsError(try avg.outputShape(for: [[49, 32]])) {
      XCTAssertEqual(($0 as? AdaError)?.kind, .badShape)
    }
  }

  func testGlobalPoolingBackwardMatchesFiniteDifferences() {
    let small = x.map { $0 * 0.01 }
    checkGradients(GlobalPool2DLayer(spec: GlobalPool2DSpec(kind: .average)), inputs: [small], params: [])
    checkGradients(GlobalPool2DLayer(spec: GlobalPool2DSpec(kind: .max)), inputs: [small], params: [])
    checkGradients(
      GlobalPool2DLayer(spec: GlobalPool2DSpec(kind: .average, keepDims: true)), inputs: [small], params: [])
  }
}
