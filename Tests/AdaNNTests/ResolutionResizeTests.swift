import AdaNN
import AdaTensor
import XCTest

/// Elastic resolution's data side: datasets drawn at another size, and batches resized.
final class ResolutionResizeTests: XCTestCase {
  /// `n` grey 12×12 images with varied pixels.
  func grey(_ n: Int) -> LabeledDataset {
    LabeledDataset(
      name: "grey", pixels: (0..<(n * 144)).map { UInt8(($0 * 53 + $0 / 7) % 256) },
      exampleShape: [12, 12, 1],
      labels: (0..<n).map { Int32($0 % 2) }, classCount: 2)
  }

  /// A prepared dataset (resize 12 → 16, RGB, tf) drawn at 8×8 resizes the stored images once,
  /// straight to 8×8: the same as preparing them for 8×8 from the start.
  func testRetargetingGoesStraightFromTheStoredImages() throws {
    let prepared = try grey(3).preparing(
      ExamplePreparation(resize: ImageResize(height: 16, width: 16), channels: 3, preprocess: .tf))
    let at8 = try prepared.resizing(toHeight: 8, width: 8)
    XCTAssertEqual(at8.exampleShape, [8, 8, 3])
    let direct = try grey(3).preparing(
      ExamplePreparation(resize: ImageResize(height: 8, width: 8), channels: 3, preprocess: .tf))
    XCTAssertEqual(try at8.examples(at: [2, 0]).scalars, try direct.examples(at: [2, 0]).scalars)
    XCTAssertEqual(at8.labels, prepared.labels)
    // And a different size is really different data.
    XCTAssertNotEqual(
      try prepared.resizing(toHeight: 6, width: 6).examples(at: [0]).shape, try at8.examples(at: [0]).shape)
    XCTAssertEqual(try prepared.resizing(toHeight: 16, width: 16).exampleShape, prepared.exampleShape)
  }

  func testUnpreparedImagesGetABilinearResizeAndFeaturesAreRefused() throws {
    let d = grey(2)
    let small = try d.resizing(toHeight: 6, width: 6)
    let batch = try d.examples(at: [0, 1])
    let expected = ImageResize(height: 6, width: 6).resizing(batch)
    let got = try small.examples(at: [0, 1])
    XCTAssertEqual(got.shape, [2, 6, 6, 1])
    let worst = zip(got.scalars, expected.scalars).map { abs($0 - $1) }.max()!
    XCTAssertLessThan(worst, 1e-6, "resizing the stored pixels then /255 = resizing x/255")
    let flat = LabeledDataset(
      name: "f", images: Tensor(shape: [2, 5], scalars: Array(repeating: 0, count: 10)), labels: [0, 1],
      classCount: 2)
    XCTAssertThrowsError(try flat.resizing(toHeight: 2, width: 2))
  }

  /// The batch resize is the per-image plan, image by image.
  func testBatchResizeAppliesThePlanToEveryImage() {
    var g = SeededGenerator(seed: 4)
    let x = Tensor.uniform([3, 7, 5, 2], lo: -1, hi: 1, using: &g)
    let r = ImageResize(height: 4, width: 3)
    let y = r.resizing(x)
    XCTAssertEqual(y.shape, [3, 4, 3, 2])
    let plan = r.plan(height: 7, width: 5)
    for b in 0..<3 {
      var one = [Float](repeating: .nan, count: 24)
      var scratch = [Float](repeating: 0, count: 4 * 5 * 2)
      let image = Array(x.scalars[(b * 70)..<((b + 1) * 70)])
      image.withUnsafeBufferPointer { src in
        one.withUnsafeMutableBufferPointer { dst in
          scratch.withUnsafeMutableBufferPointer { plan.apply(src, channels: 2, into: dst, scratch: $0) }
        }
      }
      XCTAssertEqual(Array(y.scalars[(b * 24)..<((b + 1) * 24)]), one)
    }
    XCTAssertEqual(r.resizing(y).scalars, y.scalars, "same size: unchanged")
  }
}
