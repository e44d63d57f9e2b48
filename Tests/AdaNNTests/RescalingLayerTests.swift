import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class RescalingLayerTests: XCTestCase {
  func testRescalingMapsPixelsToMinusOneToOne() {
    let layer = RescalingLayer(spec: RescalingSpec(scale: 1 / 127.5, offset: -1))
    let y = runForward(layer, [Tensor(shape: [1, 3], scalars: [0, 127.5, 255])], [])
    assertClose(y, Tensor(shape: [1, 3], scalars: [-1, 0, 1]), atol: 1e-6)
  }

  func testRescalingPreservesShapeAndRejectsNonFiniteScale() throws {
    XCTAssertEqual(
      try RescalingLayer(spec: RescalingSpec(scale: 2)).outputShape(for: [[3, 3, 1]]), [3, 3, 1])
    XCTAssertThrowsError(
      try RescalingLayer(spec: RescalingSpec(scale: .nan)).outputShape(for: [[3]]))
  }

  func testRescalingBackwardMatchesFiniteDifferences() {
    var g = SeededGenerator(seed: 5)
    let x = Tensor.uniform([2, 2, 2, 3], lo: -1, hi: 1, using: &g)
    checkGradients(RescalingLayer(spec: RescalingSpec(scale: -0.7, offset: 0.3)), inputs: [x], params: [])
  }

  func testPerChannelRescalingUsesOneFactorPerChannel() throws {
    let layer = RescalingLayer(
      spec: RescalingSpec(scale: 1, channelScales: [2, -1], channelOffsets: [0.5, 0]))
    let x = Tensor(shape: [1, 2, 2], scalars: [1, 1, 3, 3])
    XCTAssertEqual(runForward(layer, [x], []).scalars, [2.5, -1, 6.5, -3])
    XCTAssertThrowsError(try layer.outputShape(for: [[4, 3]])) {
      XCTAssertEqual(($0 as? AdaError)?.kind, .badShape)
    }
  }

  func testPerChannelRescalingBackwardMatchesFiniteDifferences() {
    var g = SeededGenerator(seed: 24)
    let x = Tensor.uniform([2, 3, 3], lo: -1, hi: 1, using: &g)
    let layer = RescalingLayer(spec: RescalingSpec(scale: 1, channelScales: [0.5, -2, 3]))
    checkGradients(layer, inputs: [x], params: [])
  }
}
