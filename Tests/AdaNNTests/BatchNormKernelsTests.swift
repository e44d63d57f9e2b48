import AdaTensor
import TestSupport
import XCTest

@testable import AdaNN

/// The blocked, parallel batch-norm reductions against the plain Double loops, and their
/// independence from how the work is split.
final class BatchNormKernelsTests: XCTestCase {
  /// Rows chosen to end mid-block and to span several blocks.
  private let rowCounts = [1, 7, BatchNormKernels.rowsPerBlock, 3 * BatchNormKernels.rowsPerBlock + 5]

  func testBlockedMomentsMatchTheDoubleReference() {
    for m in rowCounts {
      let c = 5
      var g = SeededGenerator(seed: UInt64(m))
      // An offset mean (3) larger than the spread (0.5) would expose a one-pass Float variance.
      let x = Tensor.normal([m * c], mean: 3, std: 0.5, using: &g).scalars
      let (mean, variance) = x.withUnsafeBufferPointer {
        BatchNormKernels.moments($0.baseAddress!, rows: m, channels: c)
      }
      let (refMean, refVariance) = x.withUnsafeBufferPointer {
        BatchNormKernels.batchMoments($0, channels: c)
      }
      assertClose(mean, refMean, rtol: 1e-5, "mean, \(m) rows")
      assertClose(variance, refVariance, rtol: 1e-4, "variance, \(m) rows")
    }
  }

  func testAffineMatchesTheElementwiseReferenceForAnyChannelCount() {
    // lcm(C, 8) periods: C below, at, and past the SIMD width, odd and even; rows ending
    // mid-period; and split across workers.
    for c in [1, 3, 8, 12, 33, 64] {
      for m in [1, 5, 37] {
        var g = SeededGenerator(seed: UInt64(c * 100 + m))
        let x = Tensor.normal([m * c], std: 2, using: &g).scalars
        let scale = Tensor.normal([c], std: 1, using: &g).scalars
        let shift = Tensor.normal([c], std: 1, using: &g).scalars
        let expected = BatchNormKernels.referenceAffine(x, scale: scale, shift: shift, channels: c)
        for split in [false, true] {
          var y = [Float](repeating: .nan, count: x.count)
          x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { out in
              let (xs, ys) = (xp.baseAddress!, out.baseAddress!)
              func run() {
                BatchNormKernels.affine(
                  xs, scale: scale, shift: shift, rows: m, channels: c, into: ys)
              }
              if split { splittingAcrossWorkers(run) } else { run() }
            }
          }
          XCTAssertEqual(y, expected, "C \(c), \(m) rows, split \(split)")
        }
      }
    }
  }

  func testBlockedGradientSumsMatchTheDoubleReference() {
    for m in rowCounts {
      let c = 3
      var g = SeededGenerator(seed: UInt64(100 + m))
      let x = Tensor.normal([m * c], mean: 1, std: 2, using: &g).scalars
      let dy = Tensor.uniform([m * c], lo: -1, hi: 1, using: &g).scalars
      let mean: [Float] = [1, 0.5, -0.25]
      let (sumG, sumGX) = dy.withUnsafeBufferPointer { gp in
        x.withUnsafeBufferPointer { xp in
          BatchNormKernels.gradientSums(
            gp.baseAddress!, xp.baseAddress!, mean: mean, rows: m, channels: c)
        }
      }
      let ref = BatchNormKernels.referenceGradientSums(dy, x, mean: mean, channels: c)
      // Absolute scale: sums of m terms of size ~1 that partly cancel.
      let scale = Double(m).squareRoot() * 1e-5
      for ch in 0..<c {
        XCTAssertEqual(sumG[ch], ref.sumG[ch], accuracy: scale, "Σg channel \(ch), \(m) rows")
        XCTAssertEqual(sumGX[ch], ref.sumGX[ch], accuracy: 4 * scale, "Σg(x−μ) channel \(ch), \(m) rows")
      }
    }
  }

  func testBatchNormIsBitIdenticalWhateverTheWorkerCount() {
    let layer = BatchNormLayer(spec: BatchNormSpec())
    var g = SeededGenerator(seed: 7)
    let x = Tensor.normal([5, 9, 11, 4], mean: 2, std: 3, using: &g)
    let dy = Tensor.uniform(x.shape, lo: -1, hi: 1, using: &g)
    let params = [
      Tensor(shape: [4], scalars: [1, 2, 0.5, -1]), Tensor(shape: [4], scalars: [0, 1, -1, 2]),
      Tensor(shape: [4]), Tensor(shape: [4], repeating: 1),
    ]
    func run() -> [Tensor] {
      let (y, dx, grads) = forwardBackward(layer, x, params, dy: { _ in dy })
      return [y, dx] + grads
    }
    let one = Parallel.$workers.withValue(1) { run() }
    let two = splittingAcrossWorkers { run() }
    let three = Parallel.$workers.withValue(3) { Parallel.$minimumWork.withValue(0) { run() } }
    XCTAssertEqual(one, two)
    XCTAssertEqual(one, three)
  }
}
