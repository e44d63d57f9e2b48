import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class DropoutLayerTests: XCTestCase {
  private let layer = DropoutLayer(spec: DropoutSpec(rate: 0.3))
  private let ones = Tensor(shape: [40, 500], repeating: 1)

  private func train(_ x: Tensor, seed: UInt64) -> Tensor {
    var p: [Tensor] = []
    var ctx = ForwardContext(training: true, seed: seed)
    return layer.forward([x], params: &p, context: &ctx).0
  }

  func testDropoutIsTheIdentityAtInference() {
    var g = SeededGenerator(seed: 14)
    let x = Tensor.uniform([3, 8], lo: -1, hi: 1, using: &g)
    XCTAssertEqual(runForward(layer, [x], []), x)
  }

  func testDropoutKeepsAboutOneMinusRateAndScalesKeptValues() {
    let y = train(ones, seed: 1)
    let kept = y.scalars.filter { $0 != 0 }
    let fraction = Float(kept.count) / Float(y.count)
    XCTAssertEqual(fraction, 0.7, accuracy: 0.01, "kept fraction over 20 000 elements")
    XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 }, "kept values are x / (1 − rate)")
  }

  func testDropoutMaskDependsOnlyOnTheSeed() {
    XCTAssertEqual(train(ones, seed: 42), train(ones, seed: 42))
    XCTAssertNotEqual(train(ones, seed: 42), train(ones, seed: 43))
  }

  func testDropoutBackwardUsesTheForwardMask() {
    var g = SeededGenerator(seed: 15)
    let x = Tensor.uniform([4, 6], lo: -1, hi: 1, using: &g)
    checkGradients(layer, inputs: [x], params: [], training: true)
    checkGradients(layer, inputs: [x], params: [], training: false)
  }

  func testDropoutRejectsRatesOutsideZeroToOne() {
    XCTAssertThrowsError(try DropoutLayer(spec: DropoutSpec(rate: 1)).outputShape(for: [[3]]))
    XCTAssertThrowsError(try DropoutLayer(spec: DropoutSpec(rate: -0.1)).outputShape(for: [[3]]))
    XCTAssertEqual(try DropoutLayer(spec: DropoutSpec(rate: 0)).outputShape(for: [[3]]), [3])
  }

  func testStochasticDepthKeepsOrDropsWholeExamples() {
    // EfficientNet: Dropout(noise_shape=(None, 1, 1, 1)).
    let depth = DropoutLayer(spec: DropoutSpec(rate: 0.5, noiseShape: [1, 1, 1]))
    var p: [Tensor] = []
    var ctx = ForwardContext(training: true, needsBackward: true, seed: 3)
    let x = Tensor(shape: [64, 2, 2, 3], repeating: 1)
    let (y, cache) = depth.forward([x], params: &p, context: &ctx)
    var kept = 0
    for n in 0..<64 {
      let example = Set(y.scalars[(n * 12)..<((n + 1) * 12)])
      XCTAssertEqual(example.count, 1, "example \(n) is kept or dropped whole")
      if example.first == 2 { kept += 1 }
    }
    XCTAssertTrue(kept > 16 && kept < 48, "about half of 64 examples kept, found \(kept)")
    let dx = depth.backward(x, cache: cache, params: [], paramGrads: &p)[0]
    XCTAssertEqual(dx, y, "backward applies the same per-example mask")
    XCTAssertEqual(runForward(depth, [x], []), x, "identity at inference")
  }

  func testNoiseShapeMustFitTheInput() {
    let layer = DropoutLayer(spec: DropoutSpec(rate: 0.2, noiseShape: [1, 5]))
    XCTAssertThrowsError(try layer.outputShape(for: [[4, 4, 3]])) {
      XCTAssertEqual(($0 as? AdaError)?.kind, .badShape)
    }
  }
}
