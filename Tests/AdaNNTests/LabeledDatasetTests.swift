import AdaNN
import AdaTensor
import XCTest

/// uint8 storage, preparation and fitting to a model's input.
final class LabeledDatasetTests: XCTestCase {
  /// `n` grey `h × w` images whose pixels are `(i · 37 + p) mod 256`.
  func grey(_ n: Int, _ h: Int = 4, _ w: Int = 3) -> LabeledDataset {
    LabeledDataset(
      name: "grey", pixels: (0..<(n * h * w)).map { UInt8(($0 * 37) % 256) }, exampleShape: [h, w, 1],
      labels: (0..<n).map { Int32($0 % 3) }, classCount: 3)
  }

  func testPixelsAreDrawnAsTheFloatsDividedBy255ToTheBit() throws {
    let d = grey(5)
    let floats = LabeledDataset(
      name: "f", images: Tensor(shape: [5, 4, 3, 1], scalars: (0..<60).map { Float(($0 * 37) % 256) / 255 }),
      labels: d.labels, classCount: 3)
    let order = [4, 0, 3, 3, 1]
    XCTAssertEqual(try d.examples(at: order).scalars, try floats.examples(at: order).scalars)
  }

  func testSubsetsOfPixelsStayBytes() {
    let d = grey(10)
    let s = d.subset([9, 2])
    guard case .bytes(let b) = s.storage else { return XCTFail("subset of uint8 became \(s.storage)") }
    XCTAssertEqual(b.count, 2 * 12)
    XCTAssertEqual(s.labels, [0, 2])
    XCTAssertEqual(
      d.storage.residentBytes * 4, d.count * 12 * MemoryLayout<Float>.size, "a quarter of Float32")
  }

  func testGreyBecomesRGBByRepeatingTheChannel() throws {
    let d = try grey(2).preparing(ExamplePreparation(channels: 3))
    XCTAssertEqual(d.exampleShape, [4, 3, 3])
    let x = try d.examples(at: [1])
    for p in 0..<12 {
      let v = Float(((12 + p) * 37) % 256) / 255
      XCTAssertEqual(Array(x.scalars[(p * 3)..<(p * 3 + 3)]), [v, v, v])
    }
  }

  func testAMismatchWithTheModelNamesDatasetBothShapesAndTheFix() {
    XCTAssertThrowsError(try grey(2).fitted(to: [8, 8, 3], preparation: .none)) { e in
      let e = e as! AdaError
      XCTAssertEqual(e.path, "dataset")
      XCTAssertTrue(e.message.contains("[4, 3, 1]") && e.message.contains("[8, 8, 3]"), e.message)
      XCTAssertTrue(
        e.hint?.contains("resize: {size: [8, 8]") == true && e.hint?.contains("channels: 3") == true, "\(e)")
    }
  }

  func testFittingResizesAndStillReshapesForFlatInputs() throws {
    let prepared = try grey(2).fitted(
      to: [8, 6, 3], preparation: ExamplePreparation(resize: ImageResize(height: 8, width: 6), channels: 3))
    XCTAssertEqual(try prepared.examples(at: [0]).shape, [1, 8, 6, 3])
    XCTAssertEqual(try grey(2).fitted(to: [12], preparation: .none).exampleShape, [12])
  }

  func testPreparationErrorsNameTheSetting() {
    func path(_ d: LabeledDataset, _ p: ExamplePreparation) -> String? {
      do {
        _ = try d.preparing(p)
        return nil
      } catch { return error.path }
    }
    XCTAssertEqual(
      path(grey(1), ExamplePreparation(resize: ImageResize(height: 2, width: 2, method: .pad))), "resize")
    XCTAssertEqual(path(grey(1), ExamplePreparation(preprocess: .torch)), "preprocess", "needs 3 channels")
    XCTAssertEqual(path(grey(1), ExamplePreparation(channels: 2)), "channels")
    let floats = LabeledDataset(name: "f", images: Tensor(shape: [1, 2, 2, 3]), labels: [0], classCount: 1)
    XCTAssertEqual(
      path(floats, ExamplePreparation(preprocess: .tf)), "preprocess", "floats are used as stored")
    XCTAssertNil(path(floats, ExamplePreparation(resize: ImageResize(height: 3, width: 3))))
  }
}
