import AdaTensor
import TestSupport
import XCTest

/// The direct small-K convolution against the plain-loop `Conv2DReference` (plus bias and ReLU
/// applied by hand), over strides, paddings, dilations, kernel shapes, and channel and filter
/// counts that are not multiples of the SIMD width; on one worker and split across two.
final class DirectConvKernelsTests: XCTestCase {
  /// (input `[H, W, C]`, kernel `(kh, kw)`, stride, dilation, same padding, filters).
  /// Widths of 9 or more give interior tiles of 2 and 4 pixels as well as edge pixels.
  static let cases: [([Int], (Int, Int), (Int, Int), (Int, Int), Bool, Int)] = [
    ([10, 11, 1], (3, 3), (1, 1), (1, 1), true, 8),
    ([10, 11, 1], (3, 3), (1, 1), (1, 1), true, 32),
    ([9, 12, 1], (3, 3), (1, 1), (1, 1), false, 5),
    ([9, 12, 2], (3, 3), (2, 2), (1, 1), true, 20),
    ([12, 13, 3], (3, 3), (1, 2), (1, 1), true, 10),
    ([11, 11, 3], (3, 3), (1, 1), (2, 2), true, 24),
    ([11, 14, 2], (3, 2), (2, 1), (1, 2), false, 33),
    ([8, 10, 4], (2, 2), (1, 1), (1, 1), true, 16),
    ([7, 9, 1], (5, 5), (1, 1), (1, 1), true, 40),
    ([6, 10, 3], (1, 3), (1, 2), (1, 1), true, 3),
    ([4, 4, 2], (5, 5), (1, 1), (1, 1), true, 9),  // every tap of every pixel is clipped
  ]

  private func check(_ index: Int, batch: Int, file: StaticString = #filePath, line: UInt = #line) {
    let (shape, kernel, stride, dilation, same, f) = Self.cases[index]
    let g = ConvGeometry(
      inputHeight: shape[0], inputWidth: shape[1], kernelHeight: kernel.0,
      kernelWidth: kernel.1, strideHeight: stride.0, strideWidth: stride.1,
      dilationHeight: dilation.0, dilationWidth: dilation.1, same: same)
    var rng = SeededGenerator(seed: UInt64(40 + index))
    let x = Tensor.uniform([batch] + shape, lo: -1, hi: 1, using: &rng)
    let k = Tensor.uniform([kernel.0, kernel.1, shape[2], f], lo: -1, hi: 1, using: &rng)
    let bias = Tensor.uniform([f], lo: -1, hi: 1, using: &rng)
    let z = Conv2DReference.forward(x, kernel: k, geometry: g)
    let what = "case \(index): \(g), C \(shape[2]), F \(f)"
    assertClose(
      DirectConv.forward(x, kernel: k, geometry: g), z, rtol: 1e-5, "no bias, \(what)",
      file: file, line: line)
    var expected = z
    for i in 0..<expected.count { expected.scalars[i] = max(z.scalars[i] + bias.scalars[i % f], 0) }
    assertClose(
      DirectConv.forward(x, kernel: k, bias: bias, relu: true, geometry: g), expected, rtol: 1e-5,
      "bias + relu, \(what)", file: file, line: line)
  }

  func testDirectConvMatchesTheReferenceAcrossGeometriesAndChannelCounts() {
    for i in Self.cases.indices { check(i, batch: 2) }
  }

  func testDirectConvSplitAcrossWorkersMatchesTheReference() {
    Parallel.$workers.withValue(2) {
      DirectConv.$minimumParallelMACs.withValue(0) {
        for i in Self.cases.indices { check(i, batch: 3) }
      }
    }
  }

  func testDirectConvOfAnEmptyBatchIsEmpty() {
    let g = ConvGeometry(inputHeight: 5, inputWidth: 5, kernelHeight: 3, kernelWidth: 3, same: true)
    let y = DirectConv.forward(
      Tensor(shape: [0, 5, 5, 2]), kernel: Tensor(shape: [3, 3, 2, 4]), geometry: g)
    XCTAssertEqual(y.shape, [0, 5, 5, 4])
  }

  func testDirectConvIsChosenOnlyForSmallReductions() {
    let g = ConvGeometry(inputHeight: 28, inputWidth: 28, kernelHeight: 3, kernelWidth: 3, same: true)
    XCTAssertTrue(DirectConv.isFaster(channels: 1, filters: 32, geometry: g))
    XCTAssertTrue(DirectConv.isFaster(channels: 3, filters: 16, geometry: g))
    XCTAssertFalse(DirectConv.isFaster(channels: 8, filters: 16, geometry: g))
  }
}
