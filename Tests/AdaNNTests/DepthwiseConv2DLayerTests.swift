import AdaNN
import AdaTensor
import TestSupport
import XCTest

/// DepthwiseConv2D against the plain-loop `DepthwiseKernels.referenceForward` plus the epilogue,
/// finite-difference gradients (multiplier 1 and 2, stride, padding, dilation, activations) and
/// its shape contract.
final class DepthwiseConv2DLayerTests: XCTestCase {
  static let cases: [([Int], DepthwiseConv2DSpec)] = [
    ([5, 5, 3], DepthwiseConv2DSpec(kernel: .square(3))),
    (
      [6, 7, 2],
      DepthwiseConv2DSpec(kernel: .square(3), padding: .same, depthMultiplier: 2, activation: .swish)
    ),
    (
      [7, 6, 3],
      DepthwiseConv2DSpec(kernel: .square(3), strides: .square(2), padding: .same, activation: .relu6)
    ),
    (
      [7, 7, 2],
      DepthwiseConv2DSpec(kernel: .square(3), dilation: .square(2), depthMultiplier: 2, useBias: false)
    ),
    (
      [6, 5, 2],
      DepthwiseConv2DSpec(kernel: Size2(2, 3), strides: Size2(1, 2), padding: .same, activation: .tanh)
    ),
    ([5, 5, 3], DepthwiseConv2DSpec(kernel: .square(3), padding: .same, activation: .relu)),
  ]

  static func reference(_ spec: DepthwiseConv2DSpec, _ x: Tensor, _ params: [Tensor]) -> Tensor {
    let g = ConvGeometry(
      inputHeight: x.shape[1], inputWidth: x.shape[2], kernel: spec.kernel, strides: spec.strides,
      dilation: spec.dilation, padding: spec.padding)
    let z = DepthwiseKernels.referenceForward(x, kernel: params[0], geometry: g)
    return referenceEpilogue(z, bias: spec.useBias ? params[1] : nil, spec.activation)
  }

  func testDepthwiseForwardMatchesReference() {
    for (i, (shape, spec)) in Self.cases.enumerated() {
      let layer = DepthwiseConv2DLayer(spec: spec)
      let x = randomTensor([3] + shape, seed: UInt64(80 + i))
      let params = randomParameters(for: layer, inputShapes: [shape], seed: UInt64(90 + i))
      let expected = Self.reference(spec, x, params)
      assertClose(runForward(layer, [x], params), expected, rtol: 1e-5, "case \(i)")
      assertClose(
        splittingAcrossWorkers { runForward(layer, [x], params) }, expected, rtol: 1e-5, "case \(i)")
    }
  }

  func testDepthwiseBackwardMatchesFiniteDifferences() {
    // relu6 is piecewise linear with kinks at 0 and 6; the smooth and linear cases go here.
    for (i, (shape, spec)) in Self.cases.enumerated() where ![.relu, .relu6].contains(spec.activation) {
      let layer = DepthwiseConv2DLayer(spec: spec)
      let (x, params) = gradientCheckData(layer, inputShape: shape, batch: 2, seed: UInt64(500 + 2 * i))
      checkGradients(layer, inputs: [x], params: params, h: gradientCheckStep)
    }
  }

  func testDepthwiseBackwardMatchesFiniteDifferencesWhenSplitAcrossWorkers() {
    let (shape, spec) = Self.cases[1]
    let layer = DepthwiseConv2DLayer(spec: spec)
    let (x, params) = gradientCheckData(layer, inputShape: shape, batch: 3, seed: 600)
    splittingAcrossWorkers { checkGradients(layer, inputs: [x], params: params, h: gradientCheckStep) }
  }

  func testDepthwiseFusedReLUBackwardMatchesFiniteDifferencesAwayFromTheKink() {
    for (shape, spec) in [Self.cases[5], Self.cases[2]] {
      var linear = spec
      linear.activation = .linear
      let (x, params) = dataAwayFromReLUKink(
        linear: DepthwiseConv2DLayer(spec: linear), inputShape: shape, batch: 2)
      let layer = DepthwiseConv2DLayer(spec: spec)
      XCTAssertTrue(runForward(layer, [x], params).scalars.contains(0), "the mask is exercised")
      checkGradients(layer, inputs: [x], params: params, h: gradientCheckStep)
    }
  }

  func testDepthwiseSkipsInputGradientButKeepsParameterGradients() {
    let (shape, spec) = Self.cases[1]
    let layer = DepthwiseConv2DLayer(spec: spec)
    let x = randomTensor([2] + shape, seed: 7)
    let params = randomParameters(for: layer, inputShapes: [shape], seed: 8)
    let dy = { (y: Tensor) in randomTensor(y.shape, seed: 9) }
    let full = forwardBackward(layer, x, params, dy: dy)
    let skipped = forwardBackward(layer, x, params, dy: dy, inputsNeedGradient: false)
    XCTAssertEqual(full.dx.shape, x.shape)
    XCTAssertEqual(skipped.dx.shape, [])
    XCTAssertEqual(skipped.paramGrads, full.paramGrads)
  }

  func testDepthwiseOutputShapeMultipliesChannels() throws {
    let spec = DepthwiseConv2DSpec(
      kernel: .square(3), strides: .square(2), padding: .same, depthMultiplier: 2)
    XCTAssertEqual(try DepthwiseConv2DLayer(spec: spec).outputShape(for: [[15, 16, 8]]), [8, 8, 16])
    for (i, (shape, spec)) in Self.cases.enumerated() {
      let layer = DepthwiseConv2DLayer(spec: spec)
      let y = runForward(
        layer, [randomTensor([2] + shape, seed: 1)], randomParameters(for: layer, inputShapes: [shape]))
      XCTAssertEqual([2] + (try layer.outputShape(for: [shape])), y.shape, "case \(i)")
    }
  }

  func testDepthwiseOutputShapeRejectsBadInputs() {
    let layer = DepthwiseConv2DLayer(spec: DepthwiseConv2DSpec(kernel: .square(3)))
    assertThrowsAdaError(.badShape, "rank 2") { _ = try layer.outputShape(for: [[8, 8]]) }
    assertThrowsAdaError(.badShape, "no channels") { _ = try layer.outputShape(for: [[8, 8, 0]]) }
    assertThrowsAdaError(.badShape, "window too large") { _ = try layer.outputShape(for: [[8, 2, 3]]) }
    assertThrowsAdaError(.invalidValue, "multiplier 0") {
      _ = try DepthwiseConv2DLayer(spec: DepthwiseConv2DSpec(kernel: .square(3), depthMultiplier: 0))
        .outputShape(for: [[8, 8, 3]])
    }
  }

  func testDepthwiseParametersAreKernelThenBias() {
    let specs = DepthwiseConv2DLayer(spec: DepthwiseConv2DSpec(kernel: .square(3), depthMultiplier: 2))
      .parameters(for: [[8, 8, 5]])
    XCTAssertEqual(specs.map(\.name), ["kernel", "bias"])
    XCTAssertEqual(specs.map(\.shape), [[3, 3, 5, 2], [10]])
  }
}
