import AdaTensor
import TestSupport
import XCTest

/// The direct-convolution reference itself: a hand-worked example (so it can be trusted as the
/// oracle for im2col + GEMM), and its backward as the adjoint of its forward.
final class Conv2DReferenceTests: XCTestCase {
  func testReferenceMatchesHandWorkedSamePaddedExample() {
    // x: one 3×3 single-channel image 1…9; kernel: 2×2 of ones, two filters (×1 and ×−1).
    // "same" with an even kernel pads one column right and one row below only, so
    // y[i, j] = x[i, j] + x[i, j+1] + x[i+1, j] + x[i+1, j+1] with zeros outside.
    let x = Tensor(shape: [1, 3, 3, 1], scalars: (1...9).map(Float.init))
    let kernel = Tensor(shape: [2, 2, 1, 2], scalars: [1, -1, 1, -1, 1, -1, 1, -1])
    let g = ConvGeometry(inputHeight: 3, inputWidth: 3, kernelHeight: 2, kernelWidth: 2, same: true)
    let y = Conv2DReference.forward(x, kernel: kernel, geometry: g)
    let expected: [Float] = [12, 16, 9, 24, 28, 15, 15, 17, 9]
    XCTAssertEqual(y.shape, [1, 3, 3, 2])
    XCTAssertEqual(stride(from: 0, to: 18, by: 2).map { y.scalars[$0] }, expected)
    XCTAssertEqual(stride(from: 1, to: 18, by: 2).map { y.scalars[$0] }, expected.map { -$0 })
  }

  func testReferenceMatchesHandWorkedStridedDilatedExample() {
    // 5×5 image with x[i, j] = 10·i + j, 2×2 kernel [[1, 2], [3, 4]], dilation 2, stride 2, valid:
    // y[o, p] = x[2o, 2p] + 2·x[2o, 2p+2] + 3·x[2o+2, 2p] + 4·x[2o+2, 2p+2].
    let x = Tensor(shape: [1, 5, 5, 1], scalars: (0..<25).map { Float(10 * ($0 / 5) + $0 % 5) })
    let kernel = Tensor(shape: [2, 2, 1, 1], scalars: [1, 2, 3, 4])
    let g = ConvGeometry(
      inputHeight: 5, inputWidth: 5, kernelHeight: 2, kernelWidth: 2, strideHeight: 2,
      strideWidth: 2, dilationHeight: 2, dilationWidth: 2, same: false)
    let y = Conv2DReference.forward(x, kernel: kernel, geometry: g)
    func v(_ i: Int, _ j: Int) -> Float { Float(10 * i + j) }
    let expected = [(0, 0), (0, 1), (1, 0), (1, 1)].map { o, p in
      v(2 * o, 2 * p) + 2 * v(2 * o, 2 * p + 2) + 3 * v(2 * o + 2, 2 * p) + 4 * v(2 * o + 2, 2 * p + 2)
    }
    XCTAssertEqual(y.shape, [1, 2, 2, 1])
    XCTAssertEqual(y.scalars, expected)
  }

  func testReferenceBackwardIsTheAdjointOfForward() {
    // Convolution is bilinear, so ⟨conv(x, k), dy⟩ = ⟨x, dx⟩ = ⟨k, dk⟩.
    var rng = SeededGenerator(seed: 9)
    let g = ConvGeometry(
      inputHeight: 6, inputWidth: 5, kernelHeight: 3, kernelWidth: 2, strideHeight: 2,
      strideWidth: 1, dilationHeight: 1, dilationWidth: 2, same: true)
    let x = Tensor.uniform([2, 6, 5, 3], lo: -1, hi: 1, using: &rng)
    let k = Tensor.uniform([3, 2, 3, 4], lo: -1, hi: 1, using: &rng)
    let y = Conv2DReference.forward(x, kernel: k, geometry: g)
    let dy = Tensor.uniform(y.shape, lo: -1, hi: 1, using: &rng)
    let (dx, dk) = Conv2DReference.backward(dy, input: x, kernel: k, geometry: g)
    let value = dot(y, dy)
    XCTAssertEqual(dot(x, dx), value, accuracy: 1e-3)
    XCTAssertEqual(dot(k, dk), value, accuracy: 1e-3)
  }

  private func dot(_ a: Tensor, _ b: Tensor) -> Double {
    zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
  }
}
