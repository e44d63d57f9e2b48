import AdaTensor
import TestSupport
import XCTest

/// The direct-loop depthwise kernels against their plain references, a hand-worked example for
/// the reference, and the split (multi-worker) path against the serial one.
final class DepthwiseKernelsTests: XCTestCase {
  /// (H, W, C, M, kh, kw, stride, dilation, same)
  static let cases: [(Int, Int, Int, Int, Int, Int, Int, Int, Bool)] = [
    (5, 5, 3, 1, 3, 3, 1, 1, false),
    (5, 5, 3, 1, 3, 3, 1, 1, true),
    (6, 7, 2, 2, 3, 3, 2, 1, true),
    (7, 6, 3, 1, 3, 3, 2, 1, false),
    (9, 8, 2, 3, 3, 3, 1, 2, true),
    (6, 6, 4, 2, 2, 2, 1, 1, true),
    (4, 5, 2, 1, 5, 3, 1, 1, true),
  ]

  static func geometry(_ c: (Int, Int, Int, Int, Int, Int, Int, Int, Bool)) -> ConvGeometry {
    ConvGeometry(
      inputHeight: c.0, inputWidth: c.1, kernelHeight: c.4, kernelWidth: c.5, strideHeight: c.6,
      strideWidth: c.6, dilationHeight: c.7, dilationWidth: c.7, same: c.8)
  }

  func testForwardMatchesReference() {
    var rng = SeededGenerator(seed: 21)
    for c in Self.cases {
      let g = Self.geometry(c)
      let x = Tensor.uniform([2, c.0, c.1, c.2], lo: -1, hi: 1, using: &rng)
      let k = Tensor.uniform([c.4, c.5, c.2, c.3], lo: -1, hi: 1, using: &rng)
      assertClose(
        DepthwiseKernels.forward(x, kernel: k, geometry: g),
        DepthwiseKernels.referenceForward(x, kernel: k, geometry: g), rtol: 1e-5, "\(g) M=\(c.3)")
    }
  }

  /// The multiplier-1 SIMD path on MobileNet-like shapes — channel counts that exercise the 16-,
  /// 8- and single-channel loops, stride 1 and 2, `same` and `valid`, tiny images — against the
  /// plain reference, and bit for bit against the general loop (same arithmetic, same order).
  func testChannelVectorPathMatchesReferenceAndGeneralLoop() {
    var rng = SeededGenerator(seed: 25)
    // (H, W, C, stride, same)
    let shapes = [
      (8, 8, 16, 1, true), (8, 8, 24, 2, true), (5, 5, 35, 2, false), (3, 3, 192, 2, false),
      (1, 1, 336, 1, true), (2, 2, 144, 1, true), (6, 7, 7, 1, false), (4, 4, 1, 2, true),
    ]
    for (h, w, c, s, same) in shapes {
      let g = ConvGeometry(
        inputHeight: h, inputWidth: w, kernelHeight: 3, kernelWidth: 3, strideHeight: s,
        strideWidth: s, same: same)
      let x = Tensor.uniform([2, h, w, c], lo: -1, hi: 1, using: &rng)
      let k = Tensor.uniform([3, 3, c, 1], lo: -1, hi: 1, using: &rng)
      let fast = DepthwiseKernels.forward(x, kernel: k, geometry: g)
      assertClose(
        fast, DepthwiseKernels.referenceForward(x, kernel: k, geometry: g), rtol: 1e-5, "\(g) C=\(c)")
      XCTAssertEqual(fast, DepthwiseKernels.forwardGeneral(x, kernel: k, geometry: g), "\(g) C=\(c)")
    }
  }

  func testBackwardMatchesReference() {
    var rng = SeededGenerator(seed: 22)
    for c in Self.cases {
      let g = Self.geometry(c)
      let x = Tensor.uniform([2, c.0, c.1, c.2], lo: -1, hi: 1, using: &rng)
      let k = Tensor.uniform([c.4, c.5, c.2, c.3], lo: -1, hi: 1, using: &rng)
      let dy = Tensor.uniform([2, g.outputHeight, g.outputWidth, c.2 * c.3], lo: -1, hi: 1, using: &rng)
      let expected = DepthwiseKernels.referenceBackward(dy, input: x, kernel: k, geometry: g)
      var dk = Tensor.uniform(k.shape, lo: -1, hi: 1, using: &rng)  // backward adds into it
      let dk0 = dk
      let dx = DepthwiseKernels.backward(
        dy, input: x, kernel: k, geometry: g, kernelGradient: &dk, computeInputGradient: true)
      assertClose(dx!, expected.dx, rtol: 1e-5, "dx \(g) M=\(c.3)")
      var expectedDk = dk0
      expectedDk.add(expected.dKernel)
      assertClose(dk, expectedDk, rtol: 1e-5, "dkernel \(g) M=\(c.3)")
    }
  }

  func testBackwardSkipsInputGradientWhenNotRequested() {
    var rng = SeededGenerator(seed: 23)
    let g = Self.geometry(Self.cases[2])
    let x = Tensor.uniform([2, 6, 7, 2], lo: -1, hi: 1, using: &rng)
    let k = Tensor.uniform([3, 3, 2, 2], lo: -1, hi: 1, using: &rng)
    let dy = Tensor.uniform([2, g.outputHeight, g.outputWidth, 4], lo: -1, hi: 1, using: &rng)
    var dk = Tensor(shape: k.shape)
    let dx = DepthwiseKernels.backward(
      dy, input: x, kernel: k, geometry: g, kernelGradient: &dk, computeInputGradient: false)
    XCTAssertNil(dx)
    assertClose(dk, DepthwiseKernels.referenceBackward(dy, input: x, kernel: k, geometry: g).dKernel)
  }

  func testSplitAcrossWorkersMatchesSerial() {
    var rng = SeededGenerator(seed: 24)
    let c = Self.cases[4]
    let g = Self.geometry(c)
    let x = Tensor.uniform([5, c.0, c.1, c.2], lo: -1, hi: 1, using: &rng)
    let k = Tensor.uniform([c.4, c.5, c.2, c.3], lo: -1, hi: 1, using: &rng)
    let dy = Tensor.uniform([5, g.outputHeight, g.outputWidth, c.2 * c.3], lo: -1, hi: 1, using: &rng)
    func run() -> (Tensor, Tensor, Tensor) {
      var dk = Tensor(shape: k.shape)
      let dx = DepthwiseKernels.backward(
        dy, input: x, kernel: k, geometry: g, kernelGradient: &dk, computeInputGradient: true)!
      return (DepthwiseKernels.forward(x, kernel: k, geometry: g), dx, dk)
    }
    let serial = Parallel.$workers.withValue(1) { run() }
    let split = Parallel.$workers.withValue(2) { Parallel.$minimumWork.withValue(0) { run() } }
    XCTAssertEqual(split.0, serial.0)
    XCTAssertEqual(split.1, serial.1)
    assertClose(split.2, serial.2, rtol: 1e-6)
  }

  func testReferenceMatchesHandWorkedExample() {
    // 3×3 image, 2 channels: channel 0 = 1…9, channel 1 = 10·(1…9); 2×2 kernel, multiplier 2,
    // valid. Output channel 2c + m is channel c filtered by kernel[.., c, m].
    let scalars = (1...9).flatMap { [Float($0), Float(10 * $0)] }
    let x = Tensor(shape: [1, 3, 3, 2], scalars: scalars)
    var k = Tensor(shape: [2, 2, 2, 2])
    for i in 0..<2 {
      for j in 0..<2 {
        k[i, j, 0, 0] = 1  // sum of the window
        k[i, j, 0, 1] = i == 0 && j == 0 ? 1 : 0  // top-left pixel
        k[i, j, 1, 0] = i == 1 && j == 1 ? 1 : 0  // bottom-right pixel
        k[i, j, 1, 1] = -1  // minus the sum
      }
    }
    let g = ConvGeometry(inputHeight: 3, inputWidth: 3, kernelHeight: 2, kernelWidth: 2, same: false)
    let y = DepthwiseKernels.referenceForward(x, kernel: k, geometry: g)
    XCTAssertEqual(y.shape, [1, 2, 2, 4])
    XCTAssertEqual(
      y.scalars,
      [12, 1, 50, -120, 16, 2, 60, -160, 24, 4, 80, -240, 28, 5, 90, -280])
  }
}
