import AdaCore
import AdaNN
import AdaTensor
import AdaTrain
import XCTest

final class StableHasherDatasetTests: XCTestCase {
  func testUInt8DatasetsHashLikeTheirFloatImagesSoCheckpointsStillMatch() {
    // Configuration hashes (checkpoints, supernet and search identities) were taken over
    // `images.scalars`; the chunked hash of uint8 data drawn as x/255 must give the same digest.
    let n = 3000  // 3000 × 400 = 1.2 M values: two chunks of 2621 examples and the rest
    let bytes = (0..<(n * 400)).map { UInt8(($0 * 7) % 256) }
    let pixels = LabeledDataset(
      name: "p", pixels: bytes, exampleShape: [20, 20, 1], labels: [Int32](repeating: 0, count: n),
      classCount: 1)
    let floats = LabeledDataset(
      name: "f", images: Tensor(shape: [n, 20, 20, 1], scalars: bytes.map { Float($0) / 255 }),
      labels: pixels.labels, classCount: 1)
    var a = StableHasher()
    a.combine(examplesOf: pixels)
    var b = StableHasher()
    b.combine(floats.images.scalars)
    XCTAssertEqual(a.hexDigest, b.hexDigest)
    var c = StableHasher()
    c.combine(examplesOf: pixels.subset(Array(1..<n)))
    XCTAssertNotEqual(c.hexDigest, a.hexDigest)
  }
}
