import AdaTensor
import TestSupport
import XCTest

@testable import AdaNN

/// The shared epilogue against `Activation.apply/backward` for every activation, on the serial
/// and the split path, and the bias-gradient column sums.
final class BiasActivationTests: XCTestCase {
  func testForwardIsBiasThenActivationForEveryActivation() {
    let z = randomTensor([4, 3, 5], seed: 1)
    let bias = randomTensor([5], seed: 2)
    for activation in Activation.allCases {
      let expected = referenceEpilogue(z, bias: bias, activation)
      for split in [false, true] {
        var y = z
        let pre =
          split
          ? splittingAcrossWorkers {
            BiasActivation.forward(&y, bias: bias, activation: activation, keepPreActivation: true)
          }
          : BiasActivation.forward(&y, bias: bias, activation: activation, keepPreActivation: true)
        assertClose(y, expected, rtol: 1e-6, "\(activation) split \(split)")
        if activation.backwardNeedsInput {
          assertClose(pre!, referenceEpilogue(z, bias: bias, .linear), rtol: 1e-6, "\(activation)")
        } else {
          XCTAssertNil(pre, "\(activation) keeps no pre-activation")
        }
      }
    }
  }

  func testForwardKeepsNoPreActivationWithoutBackward() {
    var y = randomTensor([3, 4], seed: 3)
    XCTAssertNil(BiasActivation.forward(&y, bias: nil, activation: .swish, keepPreActivation: false))
  }

  func testBackwardMatchesActivationBackwardForEveryActivation() {
    let bias = randomTensor([5], seed: 4)
    let dy = randomTensor([4, 5], seed: 5)
    var input = randomTensor([4, 5], seed: 6)
    input.scalars[0] = -5  // a ReLU zero for sure
    let z = referenceEpilogue(input, bias: bias, .linear)
    for activation in Activation.allCases {
      var y = input
      let pre = BiasActivation.forward(&y, bias: bias, activation: activation, keepPreActivation: true)
      let expected = activation.backward(dy: dy, x: z, y: y)
      let actual = splittingAcrossWorkers {
        BiasActivation.backward(dy, preActivation: pre, output: y, activation: activation)
      }
      assertClose(actual, expected, rtol: 1e-6, "\(activation)")
    }
  }

  func testBiasGradientSumsEveryRowIntoTheExistingGradient() {
    let dz = Tensor(shape: [2, 2, 3], scalars: [1, 2, 3, 10, 20, 30, 100, 200, 300, 1000, 2000, 3000])
    var db = Tensor(shape: [3], scalars: [0.5, 0.5, 0.5])
    BiasActivation.accumulateBiasGradient(dz, into: &db)
    XCTAssertEqual(db.scalars, [1111.5, 2222.5, 3333.5])
  }
}
