import AdaTensor
import TestSupport
import XCTest

@testable import AdaTrain

final class AugmentationTests: XCTestCase {
  private func image(_ h: Int, _ w: Int, _ c: Int, seed: UInt64 = 1) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<(h * w * c)).map { _ in g.nextUniform() + 0.5 }  // no zeros, so fills show
  }

  func testFlippingTwiceIsTheIdentity() {
    for (h, w, c) in [(4, 5, 3), (3, 4, 1), (1, 1, 2)] {
      let original = image(h, w, c)
      var x = original
      x.withUnsafeMutableBufferPointer { Augmenter.flipHorizontally($0, height: h, width: w, channels: c) }
      if w > 1 { XCTAssertNotEqual(x, original) }
      XCTAssertEqual(x[0..<c], original[((w - 1) * c)..<(w * c)], "pixel 0 takes the last pixel of the row")
      x.withUnsafeMutableBufferPointer { Augmenter.flipHorizontally($0, height: h, width: w, channels: c) }
      XCTAssertEqual(x, original)
    }
  }

  func testShiftMatchesThePlainLoopReferenceForEveryOffset() {
    let (h, w, c) = (5, 6, 2)
    let original = image(h, w, c)
    var scratch = [Float](repeating: 0, count: h * w * c)
    for dy in -6...6 {
      for dx in -7...7 {
        var fast = original
        fast.withUnsafeMutableBufferPointer { img in
          scratch.withUnsafeMutableBufferPointer {
            Augmenter.shift(img, height: h, width: w, channels: c, dy: dy, dx: dx, scratch: $0)
          }
        }
        XCTAssertEqual(
          fast, Augmenter.shiftReference(original, height: h, width: w, channels: c, dy: dy, dx: dx),
          "dy \(dy) dx \(dx)")
      }
    }
  }

  func testShiftPadsWithZerosAndMovesContent() {
    // out[y, x] = in[y + 1, x − 1]: first column and last row become zero.
    let (h, w) = (3, 3)
    let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    XCTAssertEqual(
      Augmenter.shiftReference(x, height: h, width: w, channels: 1, dy: 1, dx: -1),
      [0, 4, 5, 0, 7, 8, 0, 0, 0])
  }

  func testRandomCropKeepsTheShapeAndIsSeeded() {
    let shape = [6, 8, 8, 3]
    let batch = Tensor(shape: shape, scalars: image(6 * 8, 8, 3))
    let config = AugmentationConfig(cropPadding: 2, horizontalFlip: true)
    func run(_ seed: UInt64) -> Tensor {
      var aug = Augmenter(config: config)
      var g = SeededGenerator(seed: seed)
      var t = batch
      aug.apply(to: &t, using: &g)
      return t
    }
    let a = run(11)
    XCTAssertEqual(a.shape, shape)
    XCTAssertEqual(a, run(11), "same generator state, same augmentation")
    XCTAssertNotEqual(a, run(12))
    XCTAssertNotEqual(a, batch)
  }

  func testEachAugmentedImageIsAShiftedPossiblyFlippedOriginal() {
    // Replays the documented draw order (dy, dx, then flip bit) with the reference kernels.
    let (n, h, w, c, p) = (4, 5, 5, 2, 1)
    let batch = Tensor(shape: [n, h, w, c], scalars: image(n * h, w, c, seed: 3))
    var aug = Augmenter(config: AugmentationConfig(cropPadding: p, horizontalFlip: true))
    var g = SeededGenerator(seed: 99)
    var out = batch
    aug.apply(to: &out, using: &g)
    var replay = SeededGenerator(seed: 99)
    for i in 0..<n {
      let size = h * w * c
      var expected = Augmenter.shiftReference(
        Array(batch.scalars[(i * size)..<((i + 1) * size)]), height: h, width: w, channels: c,
        dy: replay.nextIndex(below: 2 * p + 1) - p, dx: replay.nextIndex(below: 2 * p + 1) - p)
      if replay.next() >> 63 == 1 {
        expected.withUnsafeMutableBufferPointer {
          Augmenter.flipHorizontally($0, height: h, width: w, channels: c)
        }
      }
      XCTAssertEqual(Array(out.scalars[(i * size)..<((i + 1) * size)]), expected, "image \(i)")
    }
  }

  func testDisabledAugmentationLeavesTheBatchAlone() {
    var aug = Augmenter(config: .none)
    var g = SeededGenerator(seed: 1)
    let batch = Tensor(shape: [2, 3, 3, 1], scalars: image(6, 3, 1))
    var t = batch
    aug.apply(to: &t, using: &g)
    XCTAssertEqual(t, batch)
  }
}
