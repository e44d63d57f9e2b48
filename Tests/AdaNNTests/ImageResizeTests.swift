import AdaNN
import AdaTensor
import XCTest

/// Properties of `ImageResize` and a plain 2-D reference for bilinear (Keras agreement is
/// checked against real Keras in AdaIOTests/KerasPreprocessingTests).
final class ImageResizeTests: XCTestCase {
  func resize(_ image: [Float], _ h: Int, _ w: Int, _ c: Int, to r: ImageResize) -> [Float] {
    let plan = r.plan(height: h, width: w)
    var out = [Float](repeating: .nan, count: r.height * r.width * c)
    var scratch = [Float](repeating: 0, count: r.height * w * c)
    image.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        scratch.withUnsafeMutableBufferPointer { plan.apply(src, channels: c, into: dst, scratch: $0) }
      }
    }
    return out
  }

  /// Bilinear with half-pixel centres and edge clamping, in Double, one output at a time.
  func bilinearReference(_ image: [Float], _ h: Int, _ w: Int, _ c: Int, _ h2: Int, _ w2: Int) -> [Float] {
    func axis(_ i: Int, _ n: Int, _ m: Int) -> (Int, Int, Double) {
      let s = min(max((Double(i) + 0.5) * Double(n) / Double(m) - 0.5, 0), Double(n - 1))
      let lo = Int(s.rounded(.down))
      return (lo, min(lo + 1, n - 1), s - Double(lo))
    }
    var out: [Float] = []
    for y in 0..<h2 {
      let (y0, y1, fy) = axis(y, h, h2)
      for x in 0..<w2 {
        let (x0, x1, fx) = axis(x, w, w2)
        for k in 0..<c {
          func v(_ yy: Int, _ xx: Int) -> Double { Double(image[(yy * w + xx) * c + k]) }
          let top = v(y0, x0) * (1 - fx) + v(y0, x1) * fx
          let bottom = v(y1, x0) * (1 - fx) + v(y1, x1) * fx
          out.append(Float(top * (1 - fy) + bottom * fy))
        }
      }
    }
    return out
  }

  func testBilinearMatchesThePlainReferenceUpAndDown() {
    var g = SeededGenerator(seed: 3)
    for (h, w, c, h2, w2) in [(28, 28, 1, 32, 32), (9, 10, 3, 4, 6), (5, 7, 2, 11, 16), (8, 8, 1, 3, 13)] {
      let image = (0..<(h * w * c)).map { _ in Float(g.next() % 256) }
      let ours = resize(image, h, w, c, to: ImageResize(height: h2, width: w2))
      let reference = bilinearReference(image, h, w, c, h2, w2)
      let worst = zip(ours, reference).map { abs($0 - $1) }.max()!
      XCTAssertLessThan(worst, 1e-3, "\(h)x\(w)→\(h2)x\(w2): worst |diff| \(worst) on a 0–255 scale")
    }
  }

  func testTheSameSizeIsTheIdentityForEveryMethod() {
    let image = (0..<(5 * 4 * 3)).map { Float($0) * 1.5 }
    for method in ImageResize.Method.allCases {
      XCTAssertEqual(resize(image, 5, 4, 3, to: ImageResize(height: 5, width: 4, method: method)), image)
    }
  }

  func testAConstantImageStaysConstant() {
    let image = [Float](repeating: 7.25, count: 6 * 9)
    for method in [ImageResize.Method.bilinear, .nearest] {
      let out = resize(image, 6, 9, 1, to: ImageResize(height: 13, width: 4, method: method))
      XCTAssertTrue(out.allSatisfy { abs($0 - 7.25) < 1e-5 }, "\(method): \(out)")
    }
  }

  func testPadCentresTheImageInZerosWithTheExtraRowBelow() {
    // 2×2 into 5×4: top = 1, left = 1.
    let out = resize([1, 2, 3, 4], 2, 2, 1, to: ImageResize(height: 5, width: 4, method: .pad))
    XCTAssertEqual(
      out,
      [
        0, 0, 0, 0,
        0, 1, 2, 0,
        0, 3, 4, 0,
        0, 0, 0, 0,
        0, 0, 0, 0,
      ])
  }

  func testNearestPicksFloorOfTheScaledCentre() {
    // 4 → 3: sources ⌊(i + ½)·4/3⌋ = 0, 2, 3.
    XCTAssertEqual(
      resize([10, 20, 30, 40], 1, 4, 1, to: ImageResize(height: 1, width: 3, method: .nearest)), [10, 30, 40])
  }
}
