import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class BatchNormLayerTests: XCTestCase {
  private func bn(
    momentum: Float = 0.99, epsilon: Float = 1e-3, center: Bool = true, scale: Bool = true
  ) -> BatchNormLayer {
    BatchNormLayer(
      spec: BatchNormSpec(epsilon: epsilon, momentum: momentum, center: center, scale: scale))
  }

  private func input(_ shape: [Int], seed: UInt64) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.normal(shape, mean: 0.5, std: 1.5, using: &g)
  }

  func testBatchNormParametersFollowScaleAndCenterInKerasOrder() {
    func names(_ l: BatchNormLayer) -> [String] { l.parameters(for: [[4, 4, 3]]).map(\.name) }
    XCTAssertEqual(names(bn()), ["gamma", "beta", "movingMean", "movingVariance"])
    XCTAssertEqual(names(bn(center: false)), ["gamma", "movingMean", "movingVariance"])
    XCTAssertEqual(names(bn(scale: false)), ["beta", "movingMean", "movingVariance"])
    XCTAssertEqual(names(bn(center: false, scale: false)), ["movingMean", "movingVariance"])
    let specs = bn().parameters(for: [[5]])
    XCTAssertTrue(specs.allSatisfy { $0.shape == [5] })
    XCTAssertEqual(specs.map(\.trainable), [true, true, false, false])
    XCTAssertEqual(specs.map(\.initializer), [.ones, .zeros, .zeros, .ones])
  }

  func testBatchNormShapeContract() throws {
    XCTAssertEqual(try bn().outputShape(for: [[7, 7, 16]]), [7, 7, 16])
    XCTAssertEqual(try bn().outputShape(for: [[10]]), [10])
    XCTAssertThrowsError(try bn().outputShape(for: [[]])) {
      XCTAssertEqual(($0 as? AdaError)?.kind, .badShape)
    }
  }

  func testBatchNormInferenceUsesMovingStatistics() {
    // One channel: y = (x − 1) / √(4 + 0) · 3 + 0.5 (epsilon tiny so the arithmetic is exact).
    let layer = bn(epsilon: 1e-12)
    let x = Tensor(shape: [3, 1], scalars: [1, 3, -1])
    let params = [[3], [0.5], [1], [4]].map { Tensor(shape: [1], scalars: $0) }
    let y = runForward(layer, [x], params)
    assertClose(y.scalars, [0.5, 3.5, -2.5], rtol: 1e-6)
  }

  func testBatchNormTrainingNormalisesWithBiasedBatchStatistics() {
    let layer = bn(epsilon: 1e-5)
    let x = input([4, 3, 3, 2], seed: 22)
    var params = randomParameters(for: layer, inputShapes: [[3, 3, 2]])
    var ctx = ForwardContext(training: true)
    let y = layer.forward([x], params: &params, context: &ctx).0
    let (gamma, beta) = (params[0].scalars, params[1].scalars)
    for c in 0..<2 {
      let xs = stride(from: c, to: x.count, by: 2).map { Double(x.scalars[$0]) }
      let ys = stride(from: c, to: y.count, by: 2).map { Double(y.scalars[$0]) }
      let m = xs.reduce(0, +) / Double(xs.count)
      let v = xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count)  // biased
      for (xi, yi) in zip(xs, ys) {
        let expected = (xi - m) / (v + 1e-5).squareRoot() * Double(gamma[c]) + Double(beta[c])
        XCTAssertEqual(yi, expected, accuracy: 1e-5)
      }
    }
  }

  func testBatchNormTrainingUpdatesMovingStatisticsByTheMomentumFormula() {
    // Channel 0 sees 1, 2, 3, 6: mean 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5.
    // Channel 1 sees 0, 0, 2, 2: mean 1, variance 1.
    // moving = moving · 0.9 + batch · 0.1.
    let layer = bn(momentum: 0.9)
    let x = Tensor(shape: [4, 2], scalars: [1, 0, 2, 0, 3, 2, 6, 2])
    var params = [
      Tensor(shape: [2], scalars: [1, 1]), Tensor(shape: [2], scalars: [0, 0]),
      Tensor(shape: [2], scalars: [1, -2]), Tensor(shape: [2], scalars: [2, 5]),
    ]
    var ctx = ForwardContext(training: true)
    _ = layer.forward([x], params: &params, context: &ctx)
    assertClose(params[2].scalars, [1 * 0.9 + 3 * 0.1, -2 * 0.9 + 1 * 0.1], rtol: 1e-6)
    assertClose(params[3].scalars, [2 * 0.9 + 3.5 * 0.1, 5 * 0.9 + 1 * 0.1], rtol: 1e-6)
    XCTAssertEqual(params[0].scalars, [1, 1], "gamma is not touched by forward")
  }

  func testBatchNormInferenceLeavesMovingStatisticsAlone() {
    let layer = bn()
    var params = randomParameters(for: layer, inputShapes: [[3]])
    let before = params
    var ctx = ForwardContext(training: false, needsBackward: true)
    _ = layer.forward([input([4, 3], seed: 23)], params: &params, context: &ctx)
    XCTAssertEqual(params, before)
  }

  /// Training-mode batch norm from the definition, in Double: `x` is `[M, C]` row-major.
  private func referenceTraining(
    _ x: [Double], channels c: Int, gamma: [Double], beta: [Double], epsilon: Double
  ) -> [Double] {
    let m = x.count / c
    var y = x
    for ch in 0..<c {
      let column = (0..<m).map { x[$0 * c + ch] }
      let mean = column.reduce(0, +) / Double(m)
      let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(m)
      for r in 0..<m {
        y[r * c + ch] = (x[r * c + ch] - mean) / (variance + epsilon).squareRoot() * gamma[ch] + beta[ch]
      }
    }
    return y
  }

  /// In training one perturbed input moves every output through the batch statistics, so a
  /// Float32 central difference (`checkGradients`) carries ~1e-4 of rounding noise — above the
  /// 1e-5 absolute floor its tolerance sets for small gradients. Here the numeric side is a
  /// central difference (h = 1e-5) of the Double reference above, compared with the layer's
  /// Float32 backward for the input, gamma and beta.
  private func checkTrainingGradients(_ layer: BatchNormLayer, _ shape: [Int], seed: UInt64) {
    var g = SeededGenerator(seed: seed)
    let x = Tensor.normal(shape, mean: 0.5, std: 1.5, using: &g)
    let c = shape.last!
    let params = randomParameters(for: layer, inputShapes: [Array(shape.dropFirst())], seed: seed)
    let names = layer.parameters(for: [Array(shape.dropFirst())]).map(\.name)
    var ctx = ForwardContext(training: true, needsBackward: true)
    var p = params
    let (y, cache) = layer.forward([x], params: &p, context: &ctx)
    let r = Tensor.uniform(y.shape, lo: -1, hi: 1, using: &g)
    var grads = params.map { Tensor(shape: $0.shape) }
    let dx = layer.backward(r, cache: cache, params: params, paramGrads: &grads)[0]

    let ones = [Double](repeating: 1, count: c)
    let zeros = [Double](repeating: 0, count: c)
    let xd = x.scalars.map(Double.init)
    let gamma = names.firstIndex(of: "gamma").map { params[$0].scalars.map(Double.init) } ?? ones
    let beta = names.firstIndex(of: "beta").map { params[$0].scalars.map(Double.init) } ?? zeros
    let rd = r.scalars.map(Double.init)
    let eps = Double(layer.spec.epsilon)
    func loss(_ x: [Double], _ gm: [Double], _ bt: [Double]) -> Double {
      let yd = referenceTraining(x, channels: c, gamma: gm, beta: bt, epsilon: eps)
      return zip(yd, rd).reduce(0) { $0 + $1.0 * $1.1 }
    }
    func numeric(_ v: [Double], _ f: ([Double]) -> Double) -> [Float] {
      let h = 1e-5
      return v.indices.map { i in
        var plus = v
        plus[i] += h
        var minus = v
        minus[i] -= h
        return Float((f(plus) - f(minus)) / (2 * h))
      }
    }
    assertClose(dx.scalars, numeric(xd) { loss($0, gamma, beta) }, rtol: 1e-4, "d input \(shape)")
    if let gi = names.firstIndex(of: "gamma") {
      assertClose(grads[gi].scalars, numeric(gamma) { loss(xd, $0, beta) }, rtol: 1e-4, "d gamma")
    }
    if let bi = names.firstIndex(of: "beta") {
      assertClose(grads[bi].scalars, numeric(beta) { loss(xd, gamma, $0) }, rtol: 1e-4, "d beta")
    }
  }

  func testBatchNormTrainingBackwardMatchesFiniteDifferences() {
    checkTrainingGradients(bn(), [3, 3, 2, 3], seed: 24)
    checkTrainingGradients(bn(), [6, 4], seed: 25)
    checkTrainingGradients(bn(), [2, 2, 2, 2, 3], seed: 26)
  }

  func testBatchNormInferenceBackwardMatchesFiniteDifferences() {
    let layer = bn()
    let params = randomParameters(for: layer, inputShapes: [[2, 3, 3]], seed: 28)
    checkGradients(layer, inputs: [input([2, 2, 3, 3], seed: 29)], params: params, training: false)
  }

  func testBatchNormWithoutScaleOrCenterBackwardMatchesFiniteDifferences() {
    for layer in [bn(center: false), bn(scale: false), bn(center: false, scale: false)] {
      let params = randomParameters(for: layer, inputShapes: [[2, 3]], seed: 30)
      checkGradients(layer, inputs: [input([3, 2, 3], seed: 31)], params: params, training: false)
      checkTrainingGradients(layer, [3, 2, 3], seed: 32)
    }
  }
}
