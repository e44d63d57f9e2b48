import AdaTensor
import TestSupport
import XCTest

/// The fast im2col/col2im against their one-element-at-a-time references, the adjoint identity
/// ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩, and equality of the split (multi-worker) and serial paths.
final class Im2colTests: XCTestCase {
  /// (H, W, C, kh, kw, stride, dilation, same) covering stride 1/2, valid/same, dilation 2,
  /// odd and even kernels, non-square images and windows.
  static let cases: [(Int, Int, Int, Int, Int, (Int, Int), (Int, Int), Bool)] = [
    (5, 5, 2, 3, 3, (1, 1), (1, 1), false),
    (5, 5, 2, 3, 3, (1, 1), (1, 1), true),
    (6, 7, 3, 3, 3, (2, 2), (1, 1), true),
    (7, 6, 1, 3, 3, (2, 2), (1, 1), false),
    (9, 8, 2, 3, 3, (1, 1), (2, 2), true),
    (9, 8, 2, 3, 2, (2, 1), (2, 3), false),
    (6, 6, 3, 2, 2, (1, 1), (1, 1), true),
    (4, 5, 2, 5, 5, (1, 1), (1, 1), true),
    (5, 5, 3, 1, 1, (2, 2), (1, 1), true),
  ]

  static func geometry(_ c: (Int, Int, Int, Int, Int, (Int, Int), (Int, Int), Bool)) -> ConvGeometry {
    ConvGeometry(
      inputHeight: c.0, inputWidth: c.1, kernelHeight: c.3, kernelWidth: c.4,
      strideHeight: c.5.0, strideWidth: c.5.1, dilationHeight: c.6.0, dilationWidth: c.6.1,
      same: c.7)
  }

  func testIm2colMatchesReference() {
    var rng = SeededGenerator(seed: 3)
    for c in Self.cases {
      let g = Self.geometry(c)
      let x = Tensor.uniform([2, c.0, c.1, c.2], lo: -1, hi: 1, using: &rng)
      XCTAssertEqual(Im2col.im2col(x, geometry: g), Im2col.referenceIm2col(x, geometry: g), "\(g)")
    }
  }

  func testCol2imMatchesReference() {
    var rng = SeededGenerator(seed: 4)
    for c in Self.cases {
      let g = Self.geometry(c)
      let cols = Tensor.uniform([2 * g.outputArea, g.kernelArea * c.2], lo: -1, hi: 1, using: &rng)
      assertClose(
        Im2col.col2im(cols, batch: 2, channels: c.2, geometry: g),
        Im2col.referenceCol2im(cols, batch: 2, channels: c.2, geometry: g), rtol: 1e-6, "\(g)")
    }
  }

  func testCol2imIsTheAdjointOfIm2col() {
    var rng = SeededGenerator(seed: 5)
    for c in Self.cases {
      let g = Self.geometry(c)
      let x = Tensor.uniform([3, c.0, c.1, c.2], lo: -1, hi: 1, using: &rng)
      let cols = Tensor.uniform([3 * g.outputArea, g.kernelArea * c.2], lo: -1, hi: 1, using: &rng)
      let lhs = dot(Im2col.im2col(x, geometry: g), cols)
      let rhs = dot(x, Im2col.col2im(cols, batch: 3, channels: c.2, geometry: g))
      XCTAssertEqual(lhs, rhs, accuracy: 1e-9 + 1e-9 * abs(lhs) + 1e-4, "\(g)")
    }
  }

  func testSplitAcrossWorkersGivesTheSameResultAsSerial() {
    var rng = SeededGenerator(seed: 6)
    let g = Self.geometry(Self.cases[4])
    let x = Tensor.uniform([5, 9, 8, 2], lo: -1, hi: 1, using: &rng)
    let cols = Tensor.uniform([5 * g.outputArea, g.kernelArea * 2], lo: -1, hi: 1, using: &rng)
    let serial = Parallel.$workers.withValue(1) {
      (Im2col.im2col(x, geometry: g), Im2col.col2im(cols, batch: 5, channels: 2, geometry: g))
    }
    let split = Parallel.$workers.withValue(2) {
      Parallel.$minimumWork.withValue(0) {
        (Im2col.im2col(x, geometry: g), Im2col.col2im(cols, batch: 5, channels: 2, geometry: g))
      }
    }
    XCTAssertEqual(split.0, serial.0)
    XCTAssertEqual(split.1, serial.1)
  }

  func testPointwiseGeometryColumnsAreTheImageItself() {
    var rng = SeededGenerator(seed: 8)
    let g = ConvGeometry(inputHeight: 4, inputWidth: 3, kernelHeight: 1, kernelWidth: 1, same: true)
    let x = Tensor.uniform([2, 4, 3, 5], lo: -1, hi: 1, using: &rng)
    XCTAssertEqual(Im2col.im2col(x, geometry: g).scalars, x.scalars)
  }

  private func dot(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.count == b.count)
    return zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
  }
}
