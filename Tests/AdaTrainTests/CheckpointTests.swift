import AdaNN
import AdaTensor
import TestSupport
import XCTest

@testable import AdaTrain

final class CheckpointTests: XCTestCase {
  private func sample() -> Checkpoint {
    var g = SeededGenerator(seed: 4)
    let awkward: [Float] = [-0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e-38, .pi]
    var progress = EpochProgress()
    progress.lossSum = 12.5
    progress.correct = 30
    progress.seen = 40
    progress.trainSeconds = 0.25
    let report = EpochReport(
      epoch: 1, epochs: 3, loss: 0.5, accuracy: 0.75, validationLoss: nil, validationAccuracy: 0.5,
      learningRate: 0.01, imagesPerSecond: 1000, elapsedSeconds: 2)
    return Checkpoint(
      configHash: "0123456789abcdef", seed: .max - 1,
      position: TrainingPosition(epoch: 1, step: 3, globalStep: 13),
      epochProgress: progress, history: [report], optimizerKind: "adam",
      optimizer: OptimizerState(
        iterations: 13,
        slots: [
          "m": Parameters(["d/kernel": .normal([3, 2], using: &g)]),
          "v": Parameters(["d/kernel": .uniform([3, 2], lo: 0, hi: 1, using: &g)]),
        ]),
      parameters: Parameters([
        "d/kernel": .normal([3, 2], using: &g), "d/bias": Tensor(shape: [5], scalars: awkward),
        "bn/movingMean": Tensor(shape: [0]),
      ]))
  }

  func testRoundTripIsBitExact() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let c = sample()
    let url = Checkpoint.url(in: dir)
    try c.write(to: url)
    let back = try Checkpoint.read(from: url)
    XCTAssertEqual(back, c)
    for key in c.parameters.keys {
      XCTAssertEqual(
        back.parameters.tensors[key]!.scalars.map(\.bitPattern),
        c.parameters.tensors[key]!.scalars.map(\.bitPattern), key)
    }
    XCTAssertEqual(try Checkpoint.latest(in: dir), c)
  }

  func testFileStartsWithMagicVersionAndJSONHeader() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = Checkpoint.url(in: dir)
    try sample().write(to: url)
    let bytes = [UInt8](try Data(contentsOf: url))
    XCTAssertEqual(Array(bytes[0..<8]), Array("ADACKPT1".utf8))
    XCTAssertEqual(Array(bytes[8..<12]), [1, 0, 0, 0])
    let h = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
    let json = try JSONSerialization.jsonObject(with: Data(bytes[16..<(16 + h)])) as? [String: Any]
    XCTAssertEqual(json?["configHash"] as? String, "0123456789abcdef")
    // 6 + 5 + 0 parameter scalars, 6 + 6 slot scalars.
    XCTAssertEqual(json?["dataBytes"] as? Int, 23 * 4)
    XCTAssertEqual(bytes.count, 16 + h + 23 * 4)
  }

  func testFailedWriteLeavesTheOldCheckpointAndNoTemporaryFile() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = Checkpoint.url(in: dir)
    let old = sample()
    try old.write(to: url)
    let oldBytes = try Data(contentsOf: url)
    var new = old
    new.position.globalStep = 99
    for budget in [0, 10, 200, oldBytes.count - 1] {
      XCTAssertThrowsError(try new.write(to: url, failAfterBytes: budget)) { e in
        XCTAssertEqual((e as? AdaError)?.kind, .writeFailed)
      }
      XCTAssertEqual(try Data(contentsOf: url), oldBytes, "budget \(budget)")
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [Checkpoint.fileName])
    }
  }

  func testDamagedFilesAreRejectedWithTheFileNamed() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = Checkpoint.url(in: dir)
    try sample().write(to: url)
    let good = try Data(contentsOf: url)
    func expectBadFormat(_ data: Data, _ why: String) throws {
      try data.write(to: url)
      XCTAssertThrowsError(try Checkpoint.read(from: url), why) { e in
        XCTAssertEqual((e as? AdaError)?.kind, .badFormat, why)
        XCTAssertEqual((e as? AdaError)?.file, url.path, why)
      }
    }
    try expectBadFormat(good.prefix(good.count - 4), "truncated")
    var flipped = good
    flipped[good.count - 1] ^= 0x40
    try expectBadFormat(flipped, "corrupted data")
    var magic = good
    magic[0] = UInt8(ascii: "X")
    try expectBadFormat(magic, "wrong magic")
    XCTAssertThrowsError(try Checkpoint.read(from: dir.appendingPathComponent("none.adackpt"))) { e in
      XCTAssertEqual((e as? AdaError)?.kind, .fileNotFound)
    }
  }

  func testConfigHashMismatchIsRefusedClearly() {
    XCTAssertThrowsError(try sample().checkConfigHash("fedcba9876543210", file: "runs/x/checkpoint.adackpt"))
    { e in
      let err = e as? AdaError
      XCTAssertEqual(err?.kind, .invalidValue)
      XCTAssertEqual(err?.file, "runs/x/checkpoint.adackpt")
      XCTAssertTrue(err?.message.contains("0123456789abcdef") ?? false)
      XCTAssertTrue(err?.message.contains("fedcba9876543210") ?? false)
      XCTAssertNotNil(err?.hint)
    }
    XCTAssertNoThrow(try sample().checkConfigHash("0123456789abcdef", file: "x"))
  }
}
