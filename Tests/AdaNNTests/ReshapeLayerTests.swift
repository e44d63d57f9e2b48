import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class ReshapeLayerTests: XCTestCase {
  private func reshape(_ target: [Int]) -> ReshapeLayer {
    ReshapeLayer(spec: ReshapeSpec(targetShape: target))
  }

  func testFlattenIsReshapeToMinusOne() throws {
    XCTAssertEqual(try reshape([-1]).outputShape(for: [[7, 7, 32]]), [1568])
    XCTAssertEqual(try LayerSpec.flatten.makeLayer().outputShape(for: [[3, 4, 5]]), [60])
  }

  func testReshapeResolvesTheSingleUnknownSize() throws {
    XCTAssertEqual(try reshape([4, -1]).outputShape(for: [[2, 6]]), [4, 3])
    XCTAssertEqual(try reshape([-1, 2, 2]).outputShape(for: [[8]]), [2, 2, 2])
    XCTAssertEqual(try reshape([3, 4]).outputShape(for: [[12]]), [3, 4])
  }

  func testReshapeRejectsImpossibleTargets() {
    func kind(_ target: [Int], _ input: [Int]) -> AdaError.Kind? {
      do {
        _ = try reshape(target).outputShape(for: [input])
        return nil
      } catch { return error.kind }
    }
    XCTAssertEqual(kind([-1, -1], [4]), .invalidValue)
    XCTAssertEqual(kind([0, 4], [4]), .invalidValue)
    XCTAssertEqual(kind([-2, 2], [4]), .invalidValue)
    XCTAssertEqual(kind([5], [4]), .badShape)
    XCTAssertEqual(kind([3, -1], [4]), .badShape)
  }

  func testReshapeKeepsRowMajorOrderAndBackwardRestoresTheShape() {
    var g = SeededGenerator(seed: 13)
    let x = Tensor.uniform([2, 2, 3, 2], lo: -1, hi: 1, using: &g)
    let layer = reshape([3, -1])
    let y = runForward(layer, [x], [])
    XCTAssertEqual(y.shape, [2, 3, 4])
    XCTAssertEqual(y.scalars, x.scalars)
    checkGradients(layer, inputs: [x], params: [])
  }
}
