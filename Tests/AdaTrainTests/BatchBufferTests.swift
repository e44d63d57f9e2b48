import AdaNN
import AdaTensor
import XCTest

@testable import AdaTrain

final class BatchBufferTests: XCTestCase {
  /// Example i is filled with the value i, label i % 3.
  private func dataset(_ n: Int) -> LabeledDataset {
    LabeledDataset(
      name: "toy",
      images: Tensor(
        shape: [n, 2, 2, 1], scalars: (0..<n).flatMap { [Float](repeating: Float($0), count: 4) }),
      labels: (0..<n).map { Int32($0 % 3) }, classCount: 3)
  }

  func testFillGathersTheRequestedExamplesInOrder() throws {
    let data = dataset(10)
    var buffer = BatchBuffer(exampleShape: [2, 2, 1])
    let x = try buffer.fill(from: data, indices: [7, 2, 9][...])
    XCTAssertEqual(x.shape, [3, 2, 2, 1])
    XCTAssertEqual(x.scalars, [7, 7, 7, 7, 2, 2, 2, 2, 9, 9, 9, 9])
    XCTAssertEqual(buffer.labels, [1, 2, 0])
  }

  func testRefillingTheSameBatchSizeReusesTheStorage() throws {
    let data = dataset(10)
    var buffer = BatchBuffer(exampleShape: [2, 2, 1])
    try buffer.fill(from: data, indices: [0, 1, 2, 3][...])
    let first = buffer.images.scalars.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    try buffer.fill(from: data, indices: [1][...])  // a partial batch gets its own tensor
    try buffer.fill(from: data, indices: [4, 5, 6, 7][...])
    let second = buffer.images.scalars.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    XCTAssertEqual(first, second, "no reallocation between steps of the same size")
    XCTAssertEqual(buffer.images.scalars[0], 4)
  }

  func testAugmentWorksOnTheLastFilledBatch() throws {
    let data = dataset(4)
    var buffer = BatchBuffer(exampleShape: [2, 2, 1])
    try buffer.fill(from: data, indices: [1, 2][...])
    var aug = Augmenter(config: AugmentationConfig(cropPadding: 1))
    var g = SeededGenerator(seed: 5)
    buffer.augment(with: &aug, using: &g)
    XCTAssertEqual(buffer.images.shape, [2, 2, 2, 1])
    XCTAssertTrue(buffer.images.scalars.allSatisfy { $0 == 0 || $0 == 1 || $0 == 2 })
  }
}
