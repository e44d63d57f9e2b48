import AdaCompress
import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class DepthwiseSeparableTests: XCTestCase {
  typealias M = TestModels

  func convModel(_ spec: Conv2DSpec, input: [Int] = [9, 9, 4], seed: UInt64 = 21) -> Model {
    M.randomModel(
      Graph(
        name: "conv",
        nodes: [
          M.node("in", .input(InputSpec(shape: input))),
          M.node("conv", .conv2D(spec), "in"),
          M.node("relu", .relu(ReLUSpec()), "conv"),
        ], outputs: ["relu"]),
      seed: seed)
  }

  /// `K[a, b, i, o] = d[a, b, i] · p[i, o]` for random `d`, `p`.
  func separableKernel(_ kh: Int, _ kw: Int, _ input: Int, _ output: Int, seed: UInt64) -> Tensor {
    var g = SeededGenerator(seed: seed)
    let d = Tensor.normal([kh * kw, input], using: &g)
    let p = Tensor.normal([input, output], using: &g)
    var k = Tensor(shape: [kh, kw, input, output])
    for t in 0..<(kh * kw) {
      for i in 0..<input {
        for o in 0..<output { k.scalars[(t * input + i) * output + o] = d[t, i] * p[i, o] }
      }
    }
    return k
  }

  func testSeparableKernelIsReproducedForStridesPaddingAndDilation() throws {
    let specs = [
      Conv2DSpec(filters: 8, kernel: .square(3), strides: .square(2), padding: .same, activation: .relu),
      Conv2DSpec(filters: 6, kernel: .square(3), padding: .valid, dilation: .square(2)),
      Conv2DSpec(filters: 5, kernel: Size2(3, 5), padding: .same, useBias: false),
    ]
    for (n, spec) in specs.enumerated() {
      var model = convModel(spec)
      model.parameters["conv", "kernel"] = separableKernel(
        spec.kernel.h, spec.kernel.w, 4, spec.filters, seed: UInt64(n))
      let result = try DepthwiseSeparable().apply(to: model, selecting: .all)
      XCTAssertEqual(
        result.model.graph.nodes.map(\.spec.kindName), ["input", "depthwise-conv2d", "conv2d", "relu"])
      let x = M.input(for: model)
      assertClose(M.predict(result.model, x)[0], M.predict(model, x)[0], rtol: 1e-4, "\(spec)")
    }
  }

  func testGeneralKernelBecomesItsPerChannelRankOneApproximation() throws {
    let spec = Conv2DSpec(filters: 6, kernel: .square(3), padding: .same)
    let model = convModel(spec)
    let result = try DepthwiseSeparable().apply(to: model, selecting: .named(["conv"]))
    // Reference: the original conv with each K[:, :, i, :] replaced by its best rank-1 term.
    let kernel = model.parameters["conv", "kernel"]!
    var approx = kernel
    for i in 0..<4 {
      var slice = Tensor(shape: [9, 6])
      for t in 0..<9 { for o in 0..<6 { slice[t, o] = kernel.scalars[(t * 4 + i) * 6 + o] } }
      let r1 = try SVD(of: slice).truncated(rank: 1).reconstruct()
      for t in 0..<9 { for o in 0..<6 { approx.scalars[(t * 4 + i) * 6 + o] = r1[t, o] } }
    }
    var reference = model
    reference.parameters["conv", "kernel"] = approx
    let x = M.input(for: model)
    assertClose(M.predict(result.model, x)[0], M.predict(reference, x)[0], rtol: 1e-4)
  }

  /// With multiplier `M`, a kernel whose per-input-channel slices have rank ≤ `M` is exact, and a
  /// general one becomes its per-channel best rank-`M` approximation; a 1-channel stem is where
  /// it matters (with `M = 1` its outputs would all be multiples of one filtered image).
  func testMultiplierKeepsTheBestRankMTermsPerInputChannel() throws {
    let spec = Conv2DSpec(filters: 12, kernel: .square(3), strides: .square(2), padding: .same)
    for (input, m) in [(1, 4), (3, 2)] {
      let model = convModel(spec, input: [9, 9, input], seed: UInt64(input))
      let result = try DepthwiseSeparable(multiplier: m).apply(to: model, selecting: .all)
      let depthwise = try XCTUnwrap(result.model.graph.node(named: "conv_depthwise"))
      guard case .depthwiseConv2D(let d) = depthwise.spec else { return XCTFail("\(depthwise.spec)") }
      XCTAssertEqual(d.depthMultiplier, m)
      XCTAssertEqual(result.model.parameters["conv", "kernel"]?.shape, [1, 1, input * m, 12])
      // Reference: each K[:, :, i, :] replaced by its best rank-M term, an independent SVD.
      let kernel = model.parameters["conv", "kernel"]!
      var approx = kernel
      for i in 0..<input {
        var slice = Tensor(shape: [9, 12])
        for t in 0..<9 { for o in 0..<12 { slice[t, o] = kernel.scalars[(t * input + i) * 12 + o] } }
        let rm = try SVD(of: slice).truncated(rank: m).reconstruct()
        for t in 0..<9 { for o in 0..<12 { approx.scalars[(t * input + i) * 12 + o] = rm[t, o] } }
      }
      var reference = model
      reference.parameters["conv", "kernel"] = approx
      let x = M.input(for: model)
      assertClose(
        M.predict(result.model, x)[0], M.predict(reference, x)[0], rtol: 1e-4, "in \(input), M \(m)")
      // The approximation must differ from the original, or this test could not fail.
      let (r, o) = (M.predict(reference, x)[0].scalars, M.predict(model, x)[0].scalars)
      XCTAssertGreaterThan(zip(r, o).map { abs($0 - $1) }.max() ?? 0, 1e-3)
    }
    // Full rank (M = 9 taps) reproduces any kernel; here it is not smaller, so name it.
    let model = convModel(Conv2DSpec(filters: 12, kernel: .square(3)), input: [9, 9, 1])
    XCTAssertThrowsError(try DepthwiseSeparable(multiplier: 9).apply(to: model, selecting: .named(["conv"])))
    {
      XCTAssertTrue(($0 as! AdaError).message.contains("would not get smaller with multiplier 9"), "\($0)")
    }
    XCTAssertThrowsError(try DepthwiseSeparable(multiplier: 10).apply(to: model, selecting: .named(["conv"])))
    {
      XCTAssertTrue(($0 as! AdaError).message.contains("exceeds min(9 taps, 12 filters)"), "\($0)")
    }
  }

  func testFullRankFactorsReproduceTheKernel() throws {
    var g = SeededGenerator(seed: 4)
    let kernel = Tensor.normal([3, 3, 2, 5], using: &g)
    let f = try DepthwiseSeparable.factors(kernel, multiplier: 5)
    // K[t, i, o] = Σⱼ depthwise[t, i, j] · pointwise[i·M + j, o]
    var rebuilt = Tensor(shape: kernel.shape)
    for t in 0..<9 {
      for i in 0..<2 {
        for o in 0..<5 {
          var sum: Float = 0
          for j in 0..<5 {
            sum += f.depthwise.scalars[(t * 2 + i) * 5 + j] * f.pointwise.scalars[(i * 5 + j) * 5 + o]
          }
          rebuilt.scalars[(t * 2 + i) * 5 + o] = sum
        }
      }
    }
    assertClose(rebuilt, kernel, atol: 1e-4)
  }

  func testParamsAndMACsShrinkByTheFormula() throws {
    // 3×3, 16 → 32 on 8×8 (same): 9·16·32 + 32 → 9·16 + 16·32 + 32.
    let model = convModel(Conv2DSpec(filters: 32, kernel: .square(3), padding: .same), input: [8, 8, 16])
    let report = try DepthwiseSeparable().apply(to: model, selecting: .all).report
    XCTAssertEqual(report.layers.count, 1)
    XCTAssertEqual(report.layers[0].before, LayerCost(params: 9 * 16 * 32 + 32, macs: 64 * 9 * 16 * 32))
    XCTAssertEqual(
      report.layers[0].after, LayerCost(params: 9 * 16 + 16 * 32 + 32, macs: 64 * (9 * 16 + 16 * 32)))
  }

  func testPointwiseConvolutionsAreNotEligible() throws {
    let model = convModel(Conv2DSpec(filters: 8, kernel: .square(1)))
    XCTAssertEqual(try DepthwiseSeparable().apply(to: model, selecting: .all).model.graph, model.graph)
    XCTAssertThrowsError(try DepthwiseSeparable().apply(to: model, selecting: .named(["conv"]))) {
      XCTAssertTrue(($0 as! AdaError).message.contains("would not get smaller"))
    }
  }

  func testInputModelIsUnchanged() throws {
    let model = convModel(Conv2DSpec(filters: 8, kernel: .square(3)))
    let copy = model
    _ = try DepthwiseSeparable().apply(to: model, selecting: .all)
    XCTAssertEqual(model.graph, copy.graph)
    XCTAssertEqual(model.parameters, copy.parameters)
  }
}
