import AdaNN
import AdaTensor
import TestSupport
import XCTest

/// Dense against `Gemm.reference` plus the epilogue written out, finite-difference gradients
/// (rank 2 and rank 3 inputs, fused activations including softmax) and its shape contract.
final class DenseLayerTests: XCTestCase {
  /// Input shape without the batch, and a spec.
  static let cases: [([Int], DenseSpec)] = [
    ([5], DenseSpec(units: 3)),
    ([6], DenseSpec(units: 4, activation: .swish)),
    ([5], DenseSpec(units: 4, activation: .softmax)),
    ([3, 5], DenseSpec(units: 2, activation: .tanh)),  // leading axes flattened
    ([2, 2, 4], DenseSpec(units: 3, useBias: false, activation: .sigmoid)),
  ]

  static func reference(_ spec: DenseSpec, _ x: Tensor, _ params: [Tensor]) -> Tensor {
    let k = x.shape.last!
    let m = x.count / k
    var z = [Float](repeating: 0, count: m * spec.units)
    Gemm.reference(m: m, n: spec.units, k: k, a: x.scalars, b: params[0].scalars, c: &z)
    let zt = Tensor(shape: x.shape.dropLast() + [spec.units], scalars: z)
    return referenceEpilogue(zt, bias: spec.useBias ? params[1] : nil, spec.activation)
  }

  func testDenseForwardMatchesReference() {
    for (i, (shape, spec)) in Self.cases.enumerated() {
      let layer = DenseLayer(spec: spec)
      let x = randomTensor([3] + shape, seed: UInt64(50 + i))
      let params = randomParameters(for: layer, inputShapes: [shape], seed: UInt64(60 + i))
      assertClose(runForward(layer, [x], params), Self.reference(spec, x, params), rtol: 1e-5, "case \(i)")
      let split = splittingAcrossWorkers { runForward(layer, [x], params) }
      assertClose(split, Self.reference(spec, x, params), rtol: 1e-5, "case \(i), split")
    }
  }

  func testDenseBackwardMatchesFiniteDifferences() {
    for (i, (shape, spec)) in Self.cases.enumerated() {
      let layer = DenseLayer(spec: spec)
      let (x, params) = gradientCheckData(layer, inputShape: shape, batch: 3, seed: UInt64(70 + 2 * i))
      checkGradients(layer, inputs: [x], params: params, h: gradientCheckStep)
      splittingAcrossWorkers {
        checkGradients(layer, inputs: [x], params: params, h: gradientCheckStep)
      }
    }
  }

  func testDenseFusedReLUBackwardMatchesFiniteDifferencesAwayFromTheKink() {
    let spec = DenseSpec(units: 4, activation: .relu)
    let (x, params) = dataAwayFromReLUKink(
      linear: DenseLayer(spec: DenseSpec(units: 4)), inputShape: [2, 5], batch: 2)
    let layer = DenseLayer(spec: spec)
    let y = runForward(layer, [x], params)
    XCTAssertTrue(y.scalars.contains(0) && y.scalars.contains { $0 > 0 }, "both sides of the kink")
    checkGradients(layer, inputs: [x], params: params, h: gradientCheckStep)
  }

  func testDenseSkipsInputGradientButKeepsParameterGradients() {
    let layer = DenseLayer(spec: DenseSpec(units: 4, activation: .softmax))
    let x = randomTensor([3, 6], seed: 1)
    let params = randomParameters(for: layer, inputShapes: [[6]], seed: 2)
    let dy = { (y: Tensor) in randomTensor(y.shape, seed: 3) }
    let full = forwardBackward(layer, x, params, dy: dy)
    let skipped = forwardBackward(layer, x, params, dy: dy, inputsNeedGradient: false)
    XCTAssertEqual(full.dx.shape, [3, 6])
    XCTAssertEqual(skipped.dx.shape, [])
    XCTAssertEqual(skipped.paramGrads, full.paramGrads)
  }

  func testDenseBackwardAddsIntoExistingParameterGradients() {
    let layer = DenseLayer(spec: DenseSpec(units: 3, activation: .swish))
    let x = randomTensor([4, 5], seed: 4)
    let params = randomParameters(for: layer, inputShapes: [[5]], seed: 5)
    let dy = { (y: Tensor) in randomTensor(y.shape, seed: 6) }
    let once = forwardBackward(layer, x, params, dy: dy).paramGrads
    let twice = forwardBackward(layer, x, params, dy: dy, initialGradients: once).paramGrads
    for (a, b) in zip(twice, once) {
      var doubled = b
      doubled.scale(by: 2)
      assertClose(a, doubled, rtol: 1e-6)
    }
  }

  func testDenseOutputShapeReplacesTheLastAxis() throws {
    let layer = DenseLayer(spec: DenseSpec(units: 10))
    XCTAssertEqual(try layer.outputShape(for: [[784]]), [10])
    XCTAssertEqual(try layer.outputShape(for: [[7, 7, 64]]), [7, 7, 10])
  }

  func testDenseOutputShapeRejectsBadInputs() {
    let layer = DenseLayer(spec: DenseSpec(units: 10))
    assertThrowsAdaError(.badShape, "scalar") { _ = try layer.outputShape(for: [[]]) }
    assertThrowsAdaError(.badShape, "two inputs") { _ = try layer.outputShape(for: [[4], [4]]) }
    assertThrowsAdaError(.badShape, "no features") { _ = try layer.outputShape(for: [[0]]) }
    assertThrowsAdaError(.invalidValue, "zero units") {
      _ = try DenseLayer(spec: DenseSpec(units: 0)).outputShape(for: [[4]])
    }
  }

  func testDenseParametersAreKernelThenBias() {
    let specs = DenseLayer(spec: DenseSpec(units: 10)).parameters(for: [[3, 64]])
    XCTAssertEqual(specs.map(\.name), ["kernel", "bias"])
    XCTAssertEqual(specs.map(\.shape), [[64, 10], [10]])
    XCTAssertEqual(
      DenseLayer(spec: DenseSpec(units: 10, useBias: false)).parameters(for: [[64]]).map(\.name),
      ["kernel"])
  }
}
