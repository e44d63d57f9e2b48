import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

final class ActivationLayerTests: XCTestCase {
  /// Inputs in `[lo, hi]` kept at least 0.05 away from every activation's kink (0, ±3, 6).
  private func smoothInputs(_ shape: [Int], seed: UInt64, lo: Float = -5, hi: Float = 8) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.uniform(shape, lo: lo, hi: hi, using: &g).map { v in
      for kink: Float in [-3, 0, 3, 6] where abs(v - kink) < 0.05 { return kink + 0.1 }
      return v
    }
  }

  func testActivationLayerForwardAppliesTheScalarFunction() {
    let x = smoothInputs([2, 3, 4], seed: 1)
    for a in Activation.allCases where a != .softmax {
      let y = runForward(ActivationLayer(activation: a), [x], [])
      assertClose(y, x.map(a.scalarFunction), rtol: 1e-6, "\(a)")
    }
  }

  func testSoftmaxLayerNormalisesEachRowOfTheLastAxis() {
    let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 1000, 1000, 1000])
    let y = runForward(ActivationLayer(activation: .softmax), [x], [])
    let e: [Double] = [1, exp(1.0), exp(2.0)]
    let total: Double = e.reduce(0, +)
    let third: Float = 1 / 3
    let expected: [Float] = e.map { Float($0 / total) } + [third, third, third]
    assertClose(y, Tensor(shape: [2, 3], scalars: expected), rtol: 1e-6)
  }

  func testActivationLayerPreservesShape() throws {
    XCTAssertEqual(
      try ActivationLayer(activation: .gelu).outputShape(for: [[5, 5, 8]]), [5, 5, 8])
    XCTAssertTrue(ActivationLayer(activation: .relu).parameters(for: [[4]]).isEmpty)
    XCTAssertThrowsError(try ActivationLayer(activation: .softmax).outputShape(for: [[]]))
  }

  func testActivationLayerBackwardMatchesFiniteDifferences() {
    // Piecewise-linear ones on a range that crosses every kink; smooth saturating ones on
    // [-3, 3], where f' is large enough for a Float32 central difference to resolve it.
    let piecewise: Set<Activation> = [.relu, .relu6, .hardSigmoid, .hardSwish]
    let wide = smoothInputs([2, 2, 5], seed: 2)
    let narrow = smoothInputs([2, 2, 5], seed: 2, lo: -3, hi: 3)
    for a in Activation.allCases {
      checkGradients(
        ActivationLayer(activation: a), inputs: [piecewise.contains(a) ? wide : narrow], params: [])
    }
  }

  func testActivationLayerSkipsInputGradientForTheGraphInput() {
    let layer = ActivationLayer(activation: .tanh)
    var ctx = ForwardContext(needsBackward: true)
    ctx.inputsNeedGradient = false
    var p: [Tensor] = []
    let x = smoothInputs([1, 4], seed: 3)
    let (y, cache) = layer.forward([x], params: &p, context: &ctx)
    let gx = layer.backward(y, cache: cache, params: [], paramGrads: &p)
    XCTAssertEqual(gx.map(\.shape), [[]])
  }
}
