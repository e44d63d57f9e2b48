import AdaTensor
import TestSupport
import XCTest

/// The 2×2 stride-2 pooling kernel against its plain-loop reference, for channel counts below,
/// at and past the SIMD width and for odd sizes (whose last row and column `valid` drops).
final class PoolKernelsTests: XCTestCase {
  private func geometry(_ h: Int, _ w: Int, same: Bool = false) -> ConvGeometry {
    ConvGeometry(
      inputHeight: h, inputWidth: w, kernelHeight: 2, kernelWidth: 2, strideHeight: 2,
      strideWidth: 2, same: same)
  }

  private func run(_ kind: PoolKernels.Kind, _ x: Tensor, _ g: ConvGeometry) -> Tensor {
    let (n, c) = (x.shape[0], x.shape[3])
    var y = Tensor(shape: [n, g.outputHeight, g.outputWidth, c])
    x.scalars.withUnsafeBufferPointer { xp in
      y.scalars.withUnsafeMutableBufferPointer { yp in
        PoolKernels.pool2x2(
          kind, xp.baseAddress!, batch: n, channels: c, geometry: g, into: yp.baseAddress!)
      }
    }
    return y
  }

  func testPool2x2MatchesTheReferenceForManyChannelCounts() {
    for (h, w) in [(6, 8), (7, 9), (2, 2)] {
      for c in [1, 3, 8, 13, 16, 20] {
        var rng = SeededGenerator(seed: UInt64(h * 100 + c))
        let x = Tensor.uniform([2, h, w, c], lo: -1, hi: 1, using: &rng)
        let g = geometry(h, w)
        for kind in [PoolKernels.Kind.max, .average] {
          let what = "\(kind) \(h)x\(w)x\(c)"
          assertClose(run(kind, x, g), PoolKernels.reference(kind, x, geometry: g), rtol: 1e-6, what)
          let split = Parallel.$workers.withValue(2) {
            Parallel.$minimumWork.withValue(0) { run(kind, x, g) }
          }
          XCTAssertEqual(split, run(kind, x, g), "split across workers, \(what)")
        }
      }
    }
  }

  func testPool2x2TakesOnlyWindowsInsideTheImage() {
    XCTAssertTrue(PoolKernels.fitsFullWindows(geometry(28, 28)))
    XCTAssertTrue(PoolKernels.fitsFullWindows(geometry(7, 7)))  // valid drops the last row
    XCTAssertTrue(PoolKernels.fitsFullWindows(geometry(8, 6, same: true)))
    XCTAssertFalse(PoolKernels.fitsFullWindows(geometry(7, 7, same: true)))  // padded windows
    let g3 = ConvGeometry(
      inputHeight: 8, inputWidth: 8, kernelHeight: 3, kernelWidth: 3, strideHeight: 2,
      strideWidth: 2, same: false)
    XCTAssertFalse(PoolKernels.fitsFullWindows(g3))
  }
}
