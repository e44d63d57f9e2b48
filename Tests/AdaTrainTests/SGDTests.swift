import AdaNN
import AdaTensor
import TestSupport
import XCTest

@testable import AdaTrain

/// Shared hand-set problem: one parameter `d/kernel`, three fixed gradients.
///   w0 = [1, −2, 0.5]
///   g1 = [0.1, −0.2, 0.3]   g2 = [0.2, 0.1, −0.1]   g3 = [−0.3, 0.4, 0.2]
enum Toy {
  static let key = "d/kernel"
  static let w0: [Float] = [1, -2, 0.5]
  static let grads: [[Float]] = [[0.1, -0.2, 0.3], [0.2, 0.1, -0.1], [-0.3, 0.4, 0.2]]

  /// Runs `steps` updates at a constant learning rate and returns w after each.
  static func run(_ opt: inout some Optimizer, lr: Float, weightDecay: Double = 0, steps: Int = 3)
    -> [[Float]]
  {
    var p = Parameters([key: Tensor(shape: [3], scalars: w0)])
    var out: [[Float]] = []
    for g in grads.prefix(steps) {
      let grads = Parameters([key: Tensor(shape: [3], scalars: g)])
      opt.apply(gradients: grads, to: &p, keys: [key], learningRate: lr, weightDecay: weightDecay)
      out.append(p.tensors[key]!.scalars)
    }
    return out
  }
}

final class SGDTests: XCTestCase {
  func testPlainSGDMatchesKerasRuleByHand() {
    // Keras sgd.py, momentum == 0: w = w − g·lr, lr = 0.1
    //   w1 = [1 − 0.01, −2 + 0.02, 0.5 − 0.03]        = [0.99, −1.98, 0.47]
    //   w2 = [0.99 − 0.02, −1.98 − 0.01, 0.47 + 0.01]  = [0.97, −1.99, 0.48]
    //   w3 = [0.97 + 0.03, −1.99 − 0.04, 0.48 − 0.02]  = [1.00, −2.03, 0.46]
    var opt = SGD()
    let w = Toy.run(&opt, lr: 0.1)
    assertClose(w[0], [0.99, -1.98, 0.47], rtol: 1e-6)
    assertClose(w[1], [0.97, -1.99, 0.48], rtol: 1e-6)
    assertClose(w[2], [1.00, -2.03, 0.46], rtol: 1e-6)
    XCTAssertEqual(opt.state.iterations, 3)
    XCTAssertTrue(opt.state.slots.isEmpty, "Keras creates no momentum slot when momentum == 0")
  }

  func testMomentumSGDMatchesKerasRuleByHand() {
    // m = 0.9·m − 0.1·g;  w = w + m
    //   m1 = −0.1·g1                         = [−0.01, 0.02, −0.03]     w1 = [0.99, −1.98, 0.47]
    //   m2 = 0.9·m1 − 0.1·g2 = [−0.009−0.02, 0.018−0.01, −0.027+0.01]
    //                                         = [−0.029, 0.008, −0.017]  w2 = [0.961, −1.972, 0.453]
    //   m3 = 0.9·m2 − 0.1·g3 = [−0.0261+0.03, 0.0072−0.04, −0.0153−0.02]
    //                                         = [0.0039, −0.0328, −0.0353]
    //                                                  w3 = [0.9649, −2.0048, 0.4177]
    var opt = SGD(momentum: 0.9)
    let w = Toy.run(&opt, lr: 0.1)
    assertClose(w[0], [0.99, -1.98, 0.47], rtol: 1e-6)
    assertClose(w[1], [0.961, -1.972, 0.453], rtol: 1e-6)
    assertClose(w[2], [0.9649, -2.0048, 0.4177], rtol: 1e-6)
    assertClose(
      opt.state.slots["momentum"]!.tensors[Toy.key]!.scalars, [0.0039, -0.0328, -0.0353], rtol: 1e-5)
  }

  func testNesterovSGDMatchesKerasRuleByHand() {
    // m = 0.9·m − 0.1·g (as above);  w = w + 0.9·m − 0.1·g  (with the new m)
    //   w1 = w0 + [−0.009−0.01, 0.018+0.02, −0.027−0.03]        = [0.981, −1.962, 0.443]
    //   w2 = w1 + [−0.0261−0.02, 0.0072−0.01, −0.0153+0.01]     = [0.9349, −1.9648, 0.4377]
    //   w3 = w2 + [0.00351+0.03, −0.02952−0.04, −0.03177−0.02]  = [0.96841, −2.03432, 0.38593]
    var opt = SGD(momentum: 0.9, nesterov: true)
    let w = Toy.run(&opt, lr: 0.1)
    assertClose(w[0], [0.981, -1.962, 0.443], rtol: 1e-6)
    assertClose(w[1], [0.9349, -1.9648, 0.4377], rtol: 1e-6)
    assertClose(w[2], [0.96841, -2.03432, 0.38593], rtol: 1e-6)
  }

  func testSGDSkipsParametersWithoutGradient() {
    var opt = SGD(momentum: 0.9)
    var p = Parameters([
      "a/kernel": Tensor(shape: [2], scalars: [1, 2]), "b/kernel": Tensor(shape: [2], scalars: [3, 4]),
    ])
    let g = Parameters(["a/kernel": Tensor(shape: [2], scalars: [1, 1])])
    opt.apply(gradients: g, to: &p, keys: ["a/kernel", "b/kernel"], learningRate: 0.5, weightDecay: 0.1)
    XCTAssertEqual(
      p.tensors["b/kernel"]!.scalars, [3, 4], "no gradient: no decay, no update (Keras filters it)")
    XCTAssertNil(opt.state.slots["momentum"]!.tensors["b/kernel"])
    // a: decay w − w·0.1·0.5 = [0.95, 1.9], then m = −0.5·1 → w = [0.45, 1.4]
    assertClose(p.tensors["a/kernel"]!.scalars, [0.45, 1.4], rtol: 1e-6)
  }
}
