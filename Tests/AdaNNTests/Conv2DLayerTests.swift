import AdaTensor
import TestSupport
import XCTest

@testable import AdaNN

/// Conv2D (im2col + GEMM, and the 1×1 plain-GEMM path) against the direct-loop
/// `Conv2DReference`, finite-difference gradients for input, kernel and bias, and its shape contract.
final class Conv2DLayerTests: XCTestCase {
  /// Input `[H, W, C]` and a spec; together they cover stride 1/2, valid/same, dilation 2,
  /// odd and even kernels, non-square sizes, the 1×1 path, no bias and fused activations.
  static let cases: [([Int], Conv2DSpec)] = [
    ([5, 5, 2], Conv2DSpec(filters: 3, kernel: .square(3))),
    ([6, 7, 3], Conv2DSpec(filters: 4, kernel: .square(3), padding: .same, activation: .relu)),
    (
      [6, 7, 3],
      Conv2DSpec(filters: 2, kernel: .square(3), strides: .square(2), padding: .same, activation: .swish)
    ),
    ([7, 6, 2], Conv2DSpec(filters: 3, kernel: .square(3), strides: .square(2), useBias: false)),
    (
      [7, 7, 2],
      Conv2DSpec(filters: 2, kernel: .square(3), padding: .same, dilation: .square(2), activation: .relu)
    ),
    ([7, 6, 2], Conv2DSpec(filters: 3, kernel: Size2(3, 2), strides: Size2(2, 1), dilation: Size2(1, 2))),
    ([5, 6, 2], Conv2DSpec(filters: 2, kernel: .square(2), padding: .same, activation: .tanh)),
    ([5, 5, 3], Conv2DSpec(filters: 4, kernel: .square(1))),  // 1×1 path
    ([5, 6, 3], Conv2DSpec(filters: 2, kernel: .square(1), padding: .same, activation: .swish)),  // 1×1 path
    ([5, 5, 3], Conv2DSpec(filters: 2, kernel: .square(1), strides: .square(2), padding: .same)),
  ]

  static func reference(_ spec: Conv2DSpec, _ x: Tensor, _ params: [Tensor]) -> Tensor {
    let g = ConvGeometry(
      inputHeight: x.shape[1], inputWidth: x.shape[2], kernel: spec.kernel, strides: spec.strides,
      dilation: spec.dilation, padding: spec.padding)
    let z = Conv2DReference.forward(x, kernel: params[0], geometry: g)
    return referenceEpilogue(z, bias: spec.useBias ? params[1] : nil, spec.activation)
  }

  private func setUp(_ index: Int, batch: Int = 2) -> (Conv2DLayer, Tensor, [Tensor]) {
    let (shape, spec) = Self.cases[index]
    let layer = Conv2DLayer(spec: spec)
    let x = randomTensor([batch] + shape, seed: UInt64(100 + index))
    return (layer, x, randomParameters(for: layer, inputShapes: [shape], seed: UInt64(200 + index)))
  }

  // MARK: Forward

  func testConv2DForwardMatchesDirectReference() {
    for i in Self.cases.indices {
      let (layer, x, params) = setUp(i)
      assertClose(
        runForward(layer, [x], params), Self.reference(layer.spec, x, params), rtol: 1e-5,
        "case \(i): \(Self.cases[i])")
    }
  }

  func testConv2DForwardMatchesDirectReferenceWhenSplitAcrossWorkers() {
    for i in Self.cases.indices {
      let (layer, x, params) = setUp(i, batch: 3)
      let y = splittingAcrossWorkers { runForward(layer, [x], params) }
      assertClose(y, Self.reference(layer.spec, x, params), rtol: 1e-5, "case \(i)")
    }
  }

  func testConv2DDirectInferencePathMatchesTheGemmPath() {
    // Every case either way, whatever its K: fused ReLU/linear in the kernel, other
    // activations in the shared epilogue.
    for i in Self.cases.indices {
      let (layer, x, params) = setUp(i, batch: 3)
      let direct = Conv2DLayer.$useDirectKernel.withValue(true) { runForward(layer, [x], params) }
      let gemm = Conv2DLayer.$useDirectKernel.withValue(false) { runForward(layer, [x], params) }
      assertClose(direct, gemm, rtol: 1e-5, "case \(i): \(Self.cases[i])")
      assertClose(direct, Self.reference(layer.spec, x, params), rtol: 1e-5, "case \(i)")
    }
  }

  func testConv2DTrainingForwardKeepsTheGemmPathForBackward() {
    // A K = 9 convolution takes the direct kernel at inference but not when backward follows.
    let layer = Conv2DLayer(spec: Conv2DSpec(filters: 8, kernel: .square(3), padding: .same))
    let x = randomTensor([2, 9, 9, 1], seed: 31)
    var params = randomParameters(for: layer, inputShapes: [[9, 9, 1]], seed: 32)
    var ctx = ForwardContext(training: true, needsBackward: true)
    let (y, cache) = layer.forward([x], params: &params, context: &ctx)
    XCTAssertEqual(cache.columns.shape, [2 * 81, 9], "backward needs the im2col columns")
    assertClose(y, Self.reference(layer.spec, x, params), rtol: 1e-5)
  }

  // MARK: Backward

  func testConv2DBackwardMatchesFiniteDifferences() {
    for (i, (shape, spec)) in Self.cases.enumerated() where spec.activation != .relu {
      let layer = Conv2DLayer(spec: spec)
      let (x, params) = gradientCheckData(layer, inputShape: shape, batch: 2, seed: UInt64(300 + 2 * i))
      checkGradients(layer, inputs: [x], params: params, h: gradientCheckStep)
    }
  }

  func testConv2DBackwardMatchesFiniteDifferencesWhenSplitAcrossWorkers() {
    for i in [2, 5, 8] {
      let (shape, spec) = Self.cases[i]
      let layer = Conv2DLayer(spec: spec)
      let (x, params) = gradientCheckData(layer, inputShape: shape, batch: 3, seed: UInt64(400 + 2 * i))
      splittingAcrossWorkers {
        checkGradients(layer, inputs: [x], params: params, h: gradientCheckStep)
      }
    }
  }

  func testConv2DFusedReLUBackwardMatchesFiniteDifferencesAwayFromTheKink() {
    let specs = [
      ([5, 5, 2], Conv2DSpec(filters: 2, kernel: .square(3), activation: .relu)),
      (
        [5, 6, 2],
        Conv2DSpec(filters: 2, kernel: .square(3), strides: .square(2), padding: .same, activation: .relu)
      ),
      (
        [5, 5, 2],
        Conv2DSpec(filters: 2, kernel: .square(2), padding: .same, dilation: .square(2), activation: .relu)
      ),
    ]
    for (shape, spec) in specs {
      var linear = spec
      linear.activation = .linear
      let (x, params) = dataAwayFromReLUKink(
        linear: Conv2DLayer(spec: linear), inputShape: shape, batch: 2)
      let layer = Conv2DLayer(spec: spec)
      let y = runForward(layer, [x], params)
      XCTAssertTrue(y.scalars.contains(0) && y.scalars.contains { $0 > 0 }, "both sides of the kink")
      checkGradients(layer, inputs: [x], params: params, h: gradientCheckStep)
    }
  }

  func testConv2DFusedReLUBackwardIsTheLinearBackwardOfTheMaskedGradient() {
    // y = relu(z) ⇒ backward(dy) of the fused layer = linear backward of dy ⊙ [y > 0].
    let (shape, spec) = Self.cases[4]
    var linearSpec = spec
    linearSpec.activation = .linear
    let x = randomTensor([2] + shape, seed: 41)
    let params = randomParameters(for: Conv2DLayer(spec: spec), inputShapes: [shape], seed: 42)
    let dy = { (y: Tensor) in randomTensor(y.shape, seed: 43) }
    let fused = forwardBackward(Conv2DLayer(spec: spec), x, params, dy: dy)
    let masked = forwardBackward(Conv2DLayer(spec: linearSpec), x, params) { z in
      var g = randomTensor(z.shape, seed: 43)
      for t in 0..<z.count where z.scalars[t] <= 0 { g.scalars[t] = 0 }
      return g
    }
    XCTAssertLessThan(fused.y.scalars.filter { $0 == 0 }.count, fused.y.count)
    XCTAssertGreaterThan(fused.y.scalars.filter { $0 == 0 }.count, 0)
    assertClose(fused.dx, masked.dx, rtol: 1e-6)
    for (a, b) in zip(fused.paramGrads, masked.paramGrads) { assertClose(a, b, rtol: 1e-6) }
  }

  func testConv2DBackwardMatchesReferenceGradientsOnALargerLayer() {
    // Linear activation: dz = dy, so the reference gradients follow from Conv2DReference.backward.
    let spec = Conv2DSpec(filters: 8, kernel: .square(3), strides: .square(2), padding: .same)
    let layer = Conv2DLayer(spec: spec)
    let x = randomTensor([3, 11, 10, 6], seed: 31)
    let params = randomParameters(for: layer, inputShapes: [[11, 10, 6]], seed: 32)
    let (y, dx, grads) = forwardBackward(layer, x, params, dy: { randomTensor($0.shape, seed: 33) })
    let dy = randomTensor(y.shape, seed: 33)
    let g = ConvGeometry(
      inputHeight: 11, inputWidth: 10, kernel: spec.kernel, strides: spec.strides, padding: .same)
    let expected = Conv2DReference.backward(dy, input: x, kernel: params[0], geometry: g)
    assertClose(dx, expected.dx, rtol: 1e-5, "dx")
    assertClose(grads[0], expected.dKernel, rtol: 1e-5, "dkernel")
    var dBias = Tensor(shape: [8])
    for t in 0..<dy.count { dBias.scalars[t % 8] += dy.scalars[t] }
    assertClose(grads[1], dBias, rtol: 1e-5, "dbias")
  }

  /// Runs `body` on the block-by-block path (`Conv2DBlocks`): two workers, and blocks of one
  /// or two images.
  private func blocked<R>(_ body: () -> R) -> R {
    splittingAcrossWorkers { Conv2DBlocks.$columnsBlockBytes.withValue(400) { body() } }
  }

  func testConv2DBlockedPathMatchesTheWholeBatchPath() {
    for i in Self.cases.indices {
      let (layer, x, params) = setUp(i, batch: 5)
      let dy = { (y: Tensor) in randomTensor(y.shape, seed: 7) }
      let whole = Parallel.$workers.withValue(1) { forwardBackward(layer, x, params, dy: dy) }
      let split = blocked { forwardBackward(layer, x, params, dy: dy) }
      assertClose(split.y, Self.reference(layer.spec, x, params), rtol: 1e-5, "y, case \(i)")
      assertClose(split.dx, whole.dx, rtol: 1e-5, "dx, case \(i)")
      for (a, b) in zip(split.paramGrads, whole.paramGrads) {
        assertClose(a, b, rtol: 1e-5, "parameter gradient, case \(i)")
      }
      let oneWorker = Parallel.$workers.withValue(1) {
        Conv2DBlocks.$columnsBlockBytes.withValue(400) { forwardBackward(layer, x, params, dy: dy) }
      }
      assertClose(oneWorker.y, split.y, rtol: 1e-5, "y, one worker, case \(i)")
      assertClose(oneWorker.dx, whole.dx, rtol: 1e-5, "dx, one worker, case \(i)")
      assertClose(oneWorker.paramGrads[0], whole.paramGrads[0], rtol: 1e-5, "dkernel, one worker")
      let skipped = blocked { forwardBackward(layer, x, params, dy: dy, inputsNeedGradient: false) }
      XCTAssertEqual(skipped.dx.shape, [])
      XCTAssertEqual(skipped.paramGrads, split.paramGrads, "case \(i)")
    }
  }

  func testConv2DBlockedBackwardMatchesFiniteDifferences() {
    for i in [1, 2, 5] {
      let (shape, spec) = Self.cases[i]
      var linear = spec
      linear.activation = spec.activation == .relu ? .linear : spec.activation
      let layer = Conv2DLayer(spec: linear)
      let (x, params) = gradientCheckData(layer, inputShape: shape, batch: 4, seed: UInt64(500 + i))
      blocked { checkGradients(layer, inputs: [x], params: params, h: gradientCheckStep) }
    }
  }

  func testConv2DSkipsInputGradientButKeepsParameterGradients() {
    for i in [1, 7] {
      let (layer, x, params) = setUp(i)
      let dy = { (y: Tensor) in randomTensor(y.shape, seed: 5) }
      let full = forwardBackward(layer, x, params, dy: dy)
      let skipped = forwardBackward(layer, x, params, dy: dy, inputsNeedGradient: false)
      XCTAssertEqual(skipped.dx.shape, [])
      XCTAssertEqual(full.dx.shape, x.shape)
      XCTAssertEqual(skipped.paramGrads, full.paramGrads)
    }
  }

  func testConv2DBackwardAddsIntoExistingParameterGradients() {
    let (layer, x, params) = setUp(2)
    let dy = { (y: Tensor) in randomTensor(y.shape, seed: 6) }
    let once = forwardBackward(layer, x, params, dy: dy).paramGrads
    let twice = forwardBackward(layer, x, params, dy: dy, initialGradients: once).paramGrads
    for (a, b) in zip(twice, once) {
      var doubled = b
      doubled.scale(by: 2)
      assertClose(a, doubled, rtol: 1e-6)
    }
  }

  // MARK: Shapes and parameters

  func testConv2DOutputShapeFollowsPaddingStrideAndDilation() throws {
    func shape(_ input: [Int], _ spec: Conv2DSpec) throws -> [Int] {
      try Conv2DLayer(spec: spec).outputShape(for: [input])
    }
    XCTAssertEqual(try shape([28, 28, 1], Conv2DSpec(filters: 32, kernel: .square(3))), [26, 26, 32])
    XCTAssertEqual(
      try shape([28, 28, 1], Conv2DSpec(filters: 32, kernel: .square(3), padding: .same)), [28, 28, 32])
    XCTAssertEqual(
      try shape(
        [28, 27, 4], Conv2DSpec(filters: 8, kernel: .square(3), strides: .square(2), padding: .same)),
      [14, 14, 8])
    XCTAssertEqual(
      try shape([9, 9, 4], Conv2DSpec(filters: 8, kernel: .square(3), dilation: .square(2))), [5, 5, 8])
    for (i, (input, _)) in Self.cases.enumerated() {
      let (layer, x, params) = setUp(i)
      XCTAssertEqual([2] + (try layer.outputShape(for: [input])), runForward(layer, [x], params).shape)
    }
  }

  func testConv2DOutputShapeRejectsBadInputs() {
    let layer = Conv2DLayer(spec: Conv2DSpec(filters: 4, kernel: .square(3)))
    assertThrowsAdaError(.badShape, "rank 2") { _ = try layer.outputShape(for: [[28, 28]]) }
    assertThrowsAdaError(.badShape, "rank 4") { _ = try layer.outputShape(for: [[1, 28, 28, 1]]) }
    assertThrowsAdaError(.badShape, "two inputs") {
      _ = try layer.outputShape(for: [[8, 8, 1], [8, 8, 1]])
    }
    assertThrowsAdaError(.badShape, "no channels") { _ = try layer.outputShape(for: [[8, 8, 0]]) }
    assertThrowsAdaError(.badShape, "window larger than input") {
      _ = try layer.outputShape(for: [[2, 8, 1]])
    }
    assertThrowsAdaError(.invalidValue, "zero filters") {
      _ = try Conv2DLayer(spec: Conv2DSpec(filters: 0, kernel: .square(3))).outputShape(for: [[8, 8, 1]])
    }
    assertThrowsAdaError(.invalidValue, "zero stride") {
      _ = try Conv2DLayer(spec: Conv2DSpec(filters: 2, kernel: .square(3), strides: Size2(0, 1)))
        .outputShape(for: [[8, 8, 1]])
    }
  }

  func testConv2DParametersAreKernelThenBias() {
    let withBias = Conv2DLayer(spec: Conv2DSpec(filters: 8, kernel: Size2(3, 2)))
      .parameters(for: [[10, 10, 4]])
    XCTAssertEqual(withBias.map(\.name), ["kernel", "bias"])
    XCTAssertEqual(withBias.map(\.shape), [[3, 2, 4, 8], [8]])
    let noBias = Conv2DLayer(spec: Conv2DSpec(filters: 8, kernel: .square(3), useBias: false))
      .parameters(for: [[10, 10, 4]])
    XCTAssertEqual(noBias.map(\.name), ["kernel"])
  }
}
