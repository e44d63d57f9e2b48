import AdaNN
import AdaTensor
import TestSupport
import XCTest

@testable import AdaTrain

final class OptimizerTests: XCTestCase {
  func testWeightDecayIsAppliedBeforeTheUpdateLikeKeras() {
    // Keras base_optimizer._apply_weight_decay: w = w − w·wd·lr, then update_step.
    // Plain SGD, wd = 0.5, lr = 0.1:  w = w·(1 − 0.05) − 0.1·g
    //   w1 = [0.95 − 0.01, −1.9 + 0.02, 0.475 − 0.03]              = [0.94, −1.88, 0.445]
    //   w2 = [0.893 − 0.02, −1.786 − 0.01, 0.42275 + 0.01]          = [0.873, −1.796, 0.43275]
    //   w3 = [0.82935 + 0.03, −1.7062 − 0.04, 0.4111125 − 0.02]     = [0.85935, −1.7462, 0.3911125]
    var sgd = SGD()
    let w = Toy.run(&sgd, lr: 0.1, weightDecay: 0.5)
    assertClose(w[0], [0.94, -1.88, 0.445], rtol: 1e-6)
    assertClose(w[1], [0.873, -1.796, 0.43275], rtol: 1e-6)
    assertClose(w[2], [0.85935, -1.7462, 0.3911125], rtol: 1e-6)

    // Adam, wd = 0.5, lr = 0.01: decay w0·(1 − 0.005) = [0.995, −1.99, 0.4975], then the same
    // first Adam step as without decay (−0.01·sign(g1), ε aside): [0.985, −1.98, 0.4875].
    var adam = Adam()
    let a = Toy.run(&adam, lr: 0.01, weightDecay: 0.5, steps: 1)
    assertClose(a[0], [0.9850004, -1.9800003, 0.4875002], rtol: 1e-6)
  }

  func testNonTrainableParametersAreNeverUpdated() {
    // Moving statistics get gradients of zero or not at all; whichever, keys not passed stay put,
    // even with weight decay.
    for config in [OptimizerConfig.sgd(momentum: 0.9, nesterov: true), .adam()] {
      var opt = config.makeOptimizer()
      let stats = Tensor(shape: [2], scalars: [0.25, 4])
      var p = Parameters(["bn/gamma": Tensor(shape: [2], scalars: [1, 1]), "bn/movingVariance": stats])
      let g = Parameters([
        "bn/gamma": Tensor(shape: [2], scalars: [0.5, -0.5]),
        "bn/movingVariance": Tensor(shape: [2], scalars: [1, 1]),
      ])
      for _ in 0..<3 {
        opt.apply(gradients: g, to: &p, keys: ["bn/gamma"], learningRate: 0.1, weightDecay: 0.01)
      }
      XCTAssertEqual(p.tensors["bn/movingVariance"], stats, "\(config)")
      XCTAssertNotEqual(p.tensors["bn/gamma"]!.scalars, [1, 1], "\(config)")
      for (_, slot) in opt.state.slots { XCTAssertNil(slot.tensors["bn/movingVariance"]) }
    }
  }

  func testConfigMakesTheMatchingOptimizer() {
    XCTAssertEqual(
      OptimizerConfig.sgd(momentum: 0.8, nesterov: true).makeOptimizer().config,
      .sgd(momentum: 0.8, nesterov: true))
    XCTAssertEqual(
      OptimizerConfig.adam(beta1: 0.5).makeOptimizer().config, .adam(beta1: 0.5, beta2: 0.999, epsilon: 1e-7))
  }

  func testInvalidHyperParametersAreReportedWithTheirField() {
    XCTAssertThrowsError(try OptimizerConfig.sgd(momentum: 1.5).validate()) { e in
      XCTAssertEqual((e as? AdaError)?.path, "optimizer.momentum")
    }
    XCTAssertThrowsError(try OptimizerConfig.adam(beta2: 1).validate()) { e in
      XCTAssertEqual((e as? AdaError)?.path, "optimizer.beta2")
    }
    XCTAssertNoThrow(try OptimizerConfig.adam().validate())
  }
}

final class OptimizerStateTests: XCTestCase {
  func testStateRoundTripsThroughJSONAndContinuesIdentically() throws {
    var a = Adam()
    _ = Toy.run(&a, lr: 0.01, steps: 2)
    let json = try JSONEncoder().encode(a.state)
    var b = Adam()
    b.state = try JSONDecoder().decode(OptimizerState.self, from: json)
    XCTAssertEqual(b.state, a.state)
    var p1 = Parameters([Toy.key: Tensor(shape: [3], scalars: [1, 1, 1])])
    var p2 = p1
    let g = Parameters([Toy.key: Tensor(shape: [3], scalars: Toy.grads[2])])
    a.apply(gradients: g, to: &p1, keys: [Toy.key], learningRate: 0.01, weightDecay: 0)
    b.apply(gradients: g, to: &p2, keys: [Toy.key], learningRate: 0.01, weightDecay: 0)
    XCTAssertEqual(p1, p2)
  }
}
