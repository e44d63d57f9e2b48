import AdaNN
import AdaTensor
import TestSupport
import XCTest

@testable import AdaTrain

final class AdamTests: XCTestCase {
  func testAdamMatchesKerasRuleByHand() {
    // Keras adam.py, lr = 0.01, β1 = 0.9, β2 = 0.999, ε = 1e-7; per step t:
    //   alpha = lr·sqrt(1 − β2^t)/(1 − β1^t);  m += (g − m)·0.1;  v += (g² − v)·0.001
    //   w −= m·alpha / (sqrt(v) + ε)
    // t = 1: alpha = 0.01·sqrt(0.001)/0.1 = 0.00316228
    //   m = 0.1·g1 = [0.01, −0.02, 0.03];  v = 0.001·g1² = [1e-5, 4e-5, 9e-5];  sqrt(v) = 0.1·|g1|·0.316228
    //   step = alpha·m/sqrt(v) = 0.01·sign(g1) (ε shifts the 7th digit)
    //   w1 = [0.99, −1.99, 0.49]  (+3.7e-7, −2.5e-7, +1.6e-7 from ε)
    // t = 2: alpha = 0.01·sqrt(1 − 0.998001)/(1 − 0.81) = 0.01·0.0447102/0.19 = 0.00235314
    //   m = m + (g2 − m)·0.1 = [0.01 + 0.019, −0.02 + 0.012, 0.03 − 0.013] = [0.029, −0.008, 0.017]
    //   v = v + (g2² − v)·0.001 = [1e-5 + 3.999e-5, 4e-5 + 0.996e-5, 9e-5 + 0.991e-5]
    //     = [4.999e-5, 4.996e-5, 9.991e-5]
    //   w2 = w1 − alpha·m/(sqrt(v) + ε) = [0.99 − 0.0096516, −1.99 + 0.0026633, 0.49 − 0.0040021]
    //      = [0.9803488, −1.987337, 0.485998]
    // t = 3: alpha = 0.01·sqrt(1 − 0.997003)/(1 − 0.729) = 0.01·0.0547449/0.271 = 0.00202010
    //   m = [0.029 − 0.0329, −0.008 + 0.0408, 0.017 + 0.0183] = [−0.0039, 0.0328, 0.0353]
    //   v = [1.39940e-4, 2.09910e-4, 1.39810e-4]
    //   w3 = w2 − alpha·m/(sqrt(v) + ε) = [0.9803488 + 0.000666, −1.987337 − 0.004573, 0.485998 − 0.006031]
    //      = [0.9810147, −1.9919102, 0.4799673]
    var opt = Adam()
    let w = Toy.run(&opt, lr: 0.01)
    assertClose(w[0], [0.9900004, -1.9900002, 0.4900002], rtol: 1e-6)
    assertClose(w[1], [0.9803488, -1.9873370, 0.4859981], rtol: 1e-6)
    assertClose(w[2], [0.9810147, -1.9919102, 0.4799673], rtol: 1e-6)
    assertClose(opt.state.slots["m"]!.tensors[Toy.key]!.scalars, [-0.0039, 0.0328, 0.0353], rtol: 1e-5)
    assertClose(
      opt.state.slots["v"]!.tensors[Toy.key]!.scalars, [1.39940e-4, 2.09910e-4, 1.39810e-4], rtol: 1e-5)
    XCTAssertEqual(opt.state.iterations, 3)
  }

  func testAdamBiasCorrectedStepSizeFollowsKeras() {
    // alpha_t = lr·sqrt(1 − β2^t)/(1 − β1^t): t = 1 → 0.01·0.0316228/0.1; t = 2 → 0.01·0.0447102/0.19
    assertClose(
      [Adam.alpha(learningRate: 0.01, beta1: 0.9, beta2: 0.999, iterations: 0)], [0.00316228], rtol: 1e-5)
    assertClose(
      [Adam.alpha(learningRate: 0.01, beta1: 0.9, beta2: 0.999, iterations: 1)], [0.00235314], rtol: 1e-5)
  }

  func testAdamEpsilonIsAddedOutsideTheSquareRoot() {
    // One step with g = 0 on a zero slot: m = v = 0 ⇒ update 0·alpha/(0 + ε) = 0 (no NaN).
    var opt = Adam()
    var p = Parameters(["k": Tensor(shape: [2], scalars: [1, 2])])
    opt.apply(
      gradients: Parameters(["k": Tensor(shape: [2])]), to: &p, keys: ["k"], learningRate: 0.1, weightDecay: 0
    )
    XCTAssertEqual(p.tensors["k"]!.scalars, [1, 2])
  }
}
