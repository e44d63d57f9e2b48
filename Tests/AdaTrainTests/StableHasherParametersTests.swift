import AdaCore
import AdaNN
import AdaTensor
import AdaTrain
import XCTest

final class StableHasherParametersTests: XCTestCase {
  func testParametersHashDependsOnKeysShapesAndBits() {
    func hash(_ p: Parameters) -> UInt64 {
      var h = StableHasher()
      h.combine(p)
      return h.value
    }
    let p = Parameters(["a/kernel": Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])])
    XCTAssertEqual(hash(p), hash(Parameters(["a/kernel": Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])])))
    XCTAssertNotEqual(hash(p), hash(Parameters(["a/kernel": Tensor(shape: [4], scalars: [1, 2, 3, 4])])))
    XCTAssertNotEqual(hash(p), hash(Parameters(["b/kernel": Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])])))
    XCTAssertNotEqual(
      hash(p), hash(Parameters(["a/kernel": Tensor(shape: [2, 2], scalars: [1, 2, 3, 4.0000005])])))
    XCTAssertNotEqual(
      hash(Parameters(["k": Tensor(shape: [1], scalars: [0])])),
      hash(Parameters(["k": Tensor(shape: [1], scalars: [-0.0])])),
      "bit patterns, not values")
  }
}
