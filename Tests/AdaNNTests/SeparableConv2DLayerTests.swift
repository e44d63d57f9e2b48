import AdaNN
import AdaTensor
import TestSupport
import XCTest

/// SeparableConv2D against a composition of the references (depthwise, then a 1×1
/// `Conv2DReference`, then the epilogue), finite-difference gradients for the input and all three
/// parameters, and its shape contract.
final class SeparableConv2DLayerTests: XCTestCase {
  static let cases: [([Int], SeparableConv2DSpec)] = [
    ([5, 5, 2], SeparableConv2DSpec(filters: 3, kernel: .square(3))),
    (
      [6, 7, 2],
      SeparableConv2DSpec(
        filters: 3, kernel: .square(3), padding: .same, depthMultiplier: 2, activation: .swish)
    ),
    (
      [7, 6, 3],
      SeparableConv2DSpec(
        filters: 2, kernel: .square(3), strides: .square(2), padding: .same, activation: .tanh)
    ),
    ([7, 7, 2], SeparableConv2DSpec(filters: 2, kernel: .square(3), dilation: .square(2), useBias: false)),
    ([5, 5, 2], SeparableConv2DSpec(filters: 3, kernel: .square(3), padding: .same, activation: .relu)),
  ]

  static func reference(_ spec: SeparableConv2DSpec, _ x: Tensor, _ params: [Tensor]) -> Tensor {
    let g = ConvGeometry(
      inputHeight: x.shape[1], inputWidth: x.shape[2], kernel: spec.kernel, strides: spec.strides,
      dilation: spec.dilation, padding: spec.padding)
    let d = DepthwiseKernels.referenceForward(x, kernel: params[0], geometry: g)
    let pointwise = ConvGeometry(
      inputHeight: g.outputHeight, inputWidth: g.outputWidth, kernelHeight: 1, kernelWidth: 1, same: false)
    let z = Conv2DReference.forward(d, kernel: params[1], geometry: pointwise)
    return referenceEpilogue(z, bias: spec.useBias ? params[2] : nil, spec.activation)
  }

  func testSeparableForwardMatchesComposedReferences() {
    for (i, (shape, spec)) in Self.cases.enumerated() {
      let layer = SeparableConv2DLayer(spec: spec)
      let x = randomTensor([3] + shape, seed: UInt64(110 + i))
      let params = randomParameters(for: layer, inputShapes: [shape], seed: UInt64(120 + i))
      let expected = Self.reference(spec, x, params)
      assertClose(runForward(layer, [x], params), expected, rtol: 1e-5, "case \(i)")
      assertClose(
        splittingAcrossWorkers { runForward(layer, [x], params) }, expected, rtol: 1e-5, "case \(i)")
    }
  }

  func testSeparableBackwardMatchesFiniteDifferences() {
    for (i, (shape, spec)) in Self.cases.enumerated() where spec.activation != .relu {
      let layer = SeparableConv2DLayer(spec: spec)
      let (x, params) = gradientCheckData(layer, inputShape: shape, batch: 2, seed: UInt64(700 + 2 * i))
      checkGradients(layer, inputs: [x], params: params, h: gradientCheckStep)
    }
    let (shape, spec) = Self.cases[1]
    let layer = SeparableConv2DLayer(spec: spec)
    let (x, params) = gradientCheckData(layer, inputShape: shape, batch: 3, seed: 800)
    splittingAcrossWorkers { checkGradients(layer, inputs: [x], params: params, h: gradientCheckStep) }
  }

  func testSeparableFusedReLUBackwardMatchesFiniteDifferencesAwayFromTheKink() {
    let (shape, spec) = Self.cases[4]
    var linear = spec
    linear.activation = .linear
    let (x, params) = dataAwayFromReLUKink(
      linear: SeparableConv2DLayer(spec: linear), inputShape: shape, batch: 2)
    let layer = SeparableConv2DLayer(spec: spec)
    XCTAssertTrue(runForward(layer, [x], params).scalars.contains(0), "the mask is exercised")
    checkGradients(layer, inputs: [x], params: params, h: gradientCheckStep)
  }

  func testSeparableSkipsInputGradientButKeepsParameterGradients() {
    let (shape, spec) = Self.cases[1]
    let layer = SeparableConv2DLayer(spec: spec)
    let x = randomTensor([2] + shape, seed: 11)
    let params = randomParameters(for: layer, inputShapes: [shape], seed: 12)
    let dy = { (y: Tensor) in randomTensor(y.shape, seed: 13) }
    let full = forwardBackward(layer, x, params, dy: dy)
    let skipped = forwardBackward(layer, x, params, dy: dy, inputsNeedGradient: false)
    XCTAssertEqual(full.dx.shape, x.shape)
    XCTAssertEqual(skipped.dx.shape, [])
    XCTAssertEqual(skipped.paramGrads, full.paramGrads)
  }

  func testSeparableOutputShapeHasFilterChannels() throws {
    let spec = SeparableConv2DSpec(
      filters: 7, kernel: .square(3), strides: .square(2), padding: .same, depthMultiplier: 2)
    XCTAssertEqual(try SeparableConv2DLayer(spec: spec).outputShape(for: [[9, 10, 4]]), [5, 5, 7])
  }

  func testSeparableOutputShapeRejectsBadInputs() {
    let layer = SeparableConv2DLayer(spec: SeparableConv2DSpec(filters: 4, kernel: .square(3)))
    assertThrowsAdaError(.badShape, "rank 1") { _ = try layer.outputShape(for: [[8]]) }
    assertThrowsAdaError(.badShape, "two inputs") {
      _ = try layer.outputShape(for: [[8, 8, 1], [8, 8, 1]])
    }
    assertThrowsAdaError(.badShape, "window too large") { _ = try layer.outputShape(for: [[1, 1, 3]]) }
    assertThrowsAdaError(.invalidValue, "zero filters") {
      _ = try SeparableConv2DLayer(spec: SeparableConv2DSpec(filters: 0, kernel: .square(3)))
        .outputShape(for: [[8, 8, 3]])
    }
  }

  func testSeparableParametersAreDepthwiseKernelPointwiseKernelBias() {
    let specs = SeparableConv2DLayer(
      spec: SeparableConv2DSpec(filters: 6, kernel: .square(3), depthMultiplier: 2)
    ).parameters(for: [[8, 8, 5]])
    XCTAssertEqual(specs.map(\.name), ["depthwiseKernel", "pointwiseKernel", "bias"])
    XCTAssertEqual(specs.map(\.shape), [[3, 3, 5, 2], [1, 1, 10, 6], [6]])
  }
}
