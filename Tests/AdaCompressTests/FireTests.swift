import AdaCompress
import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class FireTests: XCTestCase {
  func testFireReplacesAConvBySqueezeAndTwoExpandsWithFewerParameters() throws {
    let model = SmallModels.convNet()
    let result = try Fire(squeezeRatio: 0.25).apply(to: model, selecting: .named(["conv_b"]))
    let graph = result.model.graph
    let shapes = try result.model.validate()
    XCTAssertEqual(
      graph.nodes.map(\.name),
      [
        "input", "conv_a", "bn", "dw", "conv_b_squeeze", "conv_b_expand1x1", "conv_b_expand3x3", "conv_b",
        "pool",
        "flatten", "fc1", "dropout", "fc2",
      ])
    XCTAssertEqual(shapes["conv_b_squeeze"], [8, 8, 8])  // s = 0.25 · 32
    XCTAssertEqual(shapes["conv_b_expand1x1"], [8, 8, 16])
    XCTAssertEqual(shapes["conv_b_expand3x3"], [8, 8, 16])
    XCTAssertEqual(shapes["conv_b"], [8, 8, 32])
    XCTAssertEqual(graph.node(named: "conv_b")?.spec, .concatenate(ConcatenateSpec(axis: -1)))
    XCTAssertEqual(graph.node(named: "conv_b")?.inputs, ["conv_b_expand1x1", "conv_b_expand3x3"])
    guard case .conv2D(let e3) = graph.node(named: "conv_b_expand3x3")!.spec else { return XCTFail() }
    XCTAssertEqual(e3.activation, .relu, "the original activation moves into the expands")
    let change = try XCTUnwrap(result.report.layers.first { $0.layer == "conv_b" })
    XCTAssertEqual(change.before.params, 3 * 3 * 32 * 32 + 32)  // reads dw: 16 channels × multiplier 2
    XCTAssertEqual(change.after.params, 32 * 8 + 8 + 8 * 16 + 9 * 8 * 16 + 32)
    XCTAssertLessThan(result.report.after.params, result.report.before.params)
    XCTAssertEqual(result.report.operations, ["fire:0.25"])
  }

  func testAllSelectsEveryEligibleConvAndSkipsTheRest() throws {
    let model = SmallModels.convNet()
    XCTAssertEqual(try Fire(squeezeRatio: 0.25).selectedNodes(in: model, .all), ["conv_a", "conv_b"])
    // conv_a (4 → 16) only shrinks with a small squeeze.
    XCTAssertEqual(try Fire(squeezeRatio: 1).selectedNodes(in: model, .all), ["conv_b"])
  }

  func testIneligibleLayersAreErrorsNamingTheLayerAndReason() {
    let model = SmallModels.convNet()
    XCTAssertThrowsError(try Fire(squeezeRatio: 0.25).apply(to: model, selecting: .named(["fc1"]))) { error in
      XCTAssertEqual((error as? AdaError)?.path, "fc1")
    }
    XCTAssertThrowsError(try Fire(squeezeRatio: 1).apply(to: model, selecting: .named(["conv_a"]))) { error in
      XCTAssertTrue((error as? AdaError)?.message.contains("not fewer") ?? false, "\(error)")
    }
    var strided = model
    strided.graph.nodes[4].spec = .conv2D(
      Conv2DSpec(filters: 32, kernel: .square(3), strides: .square(2), padding: .same, activation: .relu))
    XCTAssertFalse(Fire().isEligible(strided.graph.nodes[4], in: strided))
    XCTAssertThrowsError(try Fire(squeezeRatio: 0).apply(to: model, selecting: .all))
  }

  /// With `s ≥ 2·in`, the sign-paired SVD squeeze loses nothing: the 3×3 expand reproduces the
  /// original convolution exactly on its channels, and the 1×1 expand does where the input is
  /// constant (interior pixels of a constant image).
  func testSVDInitialisationIsExactForTheThreeByThreeHalfWhenTheSqueezeKeepsFullRank() throws {
    var g = SeededGenerator(seed: 7)
    let (cin, out, s) = (3, 6, 6)
    let kernel = Tensor.normal([3, 3, cin, out], std: 0.5, using: &g)
    let bias = Tensor.normal([out], std: 0.1, using: &g)
    let conv = Model(
      graph: Graph(
        name: "c",
        nodes: [
          Node(name: "input", spec: .input(InputSpec(shape: [6, 6, cin])), inputs: []),
          Node(
            name: "conv", spec: .conv2D(Conv2DSpec(filters: out, kernel: .square(3), padding: .same)),
            inputs: ["input"]),
        ], outputs: ["conv"]),
      parameters: Parameters(["conv/kernel": kernel, "conv/bias": bias]))
    let w = try Fire.initialWeights(kernel: kernel, bias: bias, squeezeFilters: s, seed: 1)
    let fire = Model(
      graph: Graph(
        name: "f",
        nodes: [
          Node(name: "input", spec: .input(InputSpec(shape: [6, 6, cin])), inputs: []),
          Node(
            name: "sq", spec: .conv2D(Conv2DSpec(filters: s, kernel: .square(1), activation: .relu)),
            inputs: ["input"]),
          Node(name: "e1", spec: .conv2D(Conv2DSpec(filters: out / 2, kernel: .square(1))), inputs: ["sq"]),
          Node(
            name: "e3", spec: .conv2D(Conv2DSpec(filters: out / 2, kernel: .square(3), padding: .same)),
            inputs: ["sq"]),
        ], outputs: ["e1", "e3"]),
      parameters: Parameters([
        "sq/kernel": w.squeezeKernel, "sq/bias": w.squeezeBias, "e1/kernel": w.expand1Kernel,
        "e1/bias": w.expand1Bias!, "e3/kernel": w.expand3Kernel, "e3/bias": w.expand3Bias!,
      ]))
    try fire.validate()
    // Signed inputs: the sign pairs must carry negative projections through the relu.
    let x = Tensor.normal([2, 6, 6, cin], using: &g)
    let reference = SmallModels.predict(conv, x)[0]
    let e3 = SmallModels.predict(fire, x)[1]
    assertClose(e3, channels(reference, 3..<6), rtol: 1e-5)
    var constant = Tensor(shape: [1, 6, 6, cin])
    for i in 0..<constant.count { constant.scalars[i] = [0.7, -0.4, 1.1][i % cin] }
    let interior = { (t: Tensor) in self.pixels(t, rows: 1..<5, cols: 1..<5) }
    assertClose(
      interior(SmallModels.predict(fire, constant)[0]),
      interior(channels(SmallModels.predict(conv, constant)[0], 0..<3)), rtol: 1e-5)
  }

  func testFireOnTheConvNetKeepsShapesAndStartsNearTheOriginal() throws {
    let model = SmallModels.convNet()
    let result = try Fire(squeezeRatio: 0.5).apply(to: model, selecting: .named(["conv_b"]))
    let x = SmallModels.inputs(4, [8, 8, 4])
    let before = SmallModels.predict(model, x)[0]
    let after = SmallModels.predict(result.model, x)[0]
    XCTAssertEqual(after.shape, before.shape)
    XCTAssertFalse(after.hasNonFinite)
    // The same seed gives the same module.
    let again = try Fire(squeezeRatio: 0.5).apply(to: model, selecting: .named(["conv_b"]))
    XCTAssertEqual(again.model.parameters, result.model.parameters)
  }

  func testASoftmaxActivationBecomesALayerAfterTheConcatenation() throws {
    var model = SmallModels.convNet()
    model.graph.nodes[4].spec = .conv2D(
      Conv2DSpec(filters: 32, kernel: .square(3), padding: .same, activation: .softmax))
    let result = try Fire().apply(to: model, selecting: .named(["conv_b"]))
    let graph = result.model.graph
    XCTAssertEqual(graph.node(named: "conv_b")?.spec, .activation(.softmax))
    XCTAssertEqual(graph.node(named: "conv_b")?.inputs, ["conv_b_concat"])
    guard case .conv2D(let e1) = graph.node(named: "conv_b_expand1x1")!.spec else { return XCTFail() }
    XCTAssertEqual(e1.activation, .linear)
    let y = SmallModels.predict(result.model, SmallModels.inputs(1, [8, 8, 4]))[0]
    XCTAssertEqual(y.shape, [1, 10])
  }

  // MARK: Helpers

  /// `[N, H, W, C]` → the channels in `range`.
  func channels(_ t: Tensor, _ range: Range<Int>) -> Tensor {
    let c = t.shape[3]
    let rows = t.count / c
    var out: [Float] = []
    for r in 0..<rows { out += t.scalars[(r * c + range.lowerBound)..<(r * c + range.upperBound)] }
    return Tensor(shape: Array(t.shape.dropLast()) + [range.count], scalars: out)
  }

  /// `[1, H, W, C]` → the pixels in the given rows and columns, flattened.
  func pixels(_ t: Tensor, rows: Range<Int>, cols: Range<Int>) -> [Float] {
    let (w, c) = (t.shape[2], t.shape[3])
    var out: [Float] = []
    for h in rows { for x in cols { out += t.scalars[((h * w) + x) * c..<((h * w) + x + 1) * c] } }
    return out
  }
}
