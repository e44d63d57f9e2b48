import AdaDistributed
import AdaTensor
import XCTest

final class FrameTests: XCTestCase {
  let tensors = [
    MDIModels.input(batch: 2, shape: [4, 4, 3]), Tensor(shape: [2, 5], scalars: (0..<10).map(Float.init)),
  ]

  func features(_ encoding: FeatureEncoding = .float32) -> Frame {
    Frame(
      kind: .features, taskId: 0x0102_0304_0506_0708, tag: 2, point: 3, encoding: encoding, tensors: tensors)
  }

  /// Re-seals a frame whose bytes were edited, so the edit reaches the field checks.
  func resealed(_ bytes: [UInt8]) -> [UInt8] {
    var b = Array(bytes.dropLast(4))
    let c = CRC32.checksum(b)
    for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: c >> (8 * UInt32(i)))) }
    return b
  }

  func assertRejected(
    _ bytes: [UInt8], naming field: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertThrowsError(try Frame.decode(complete: bytes), file: file, line: line) { error in
      XCTAssertTrue("\(error)".contains(field), "expected \(field) in: \(error)", file: file, line: line)
    }
  }

  func testFloatFramesRoundTripExactly() throws {
    let f = features()
    let bytes = f.encoded()
    XCTAssertEqual(bytes.count, 24 + (1 + 16 + 4 * 96) + (1 + 8 + 4 * 10) + 4)
    XCTAssertEqual(Array(bytes.prefix(4)), Array("AMDI".utf8))
    XCTAssertEqual(try Frame.decode(complete: bytes), f)
  }

  func testCRCIsZlibs() {
    // zlib.crc32(b"123456789") == 0xCBF43926, the standard check value.
    XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
    XCTAssertEqual(CRC32.reference(Array("123456789".utf8)), 0xCBF4_3926)
    var g = SeededGenerator(seed: 8)
    for n in [0, 1, 7, 64, 1000, 70_000] {
      let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: g.next()) }
      XCTAssertEqual(CRC32.checksum(bytes), CRC32.reference(bytes), "\(n) bytes")
      XCTAssertEqual(CRC32.checksum(bytes[(n / 3)...]), CRC32.reference(bytes[(n / 3)...]), "slice of \(n)")
    }
  }

  func testInt8FramesRoundTripWithinHalfAStep() throws {
    let decoded = try Frame.decode(complete: features(.int8).encoded())
    XCTAssertEqual(decoded.encoding, .int8)
    for (a, b) in zip(decoded.tensors, tensors) {
      XCTAssertEqual(a.shape, b.shape)
      let scale = b.scalars.map(abs).max()! / 127
      let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()!
      XCTAssertLessThanOrEqual(worst, scale / 2 * 1.0001, "worst |Δ| \(worst), scale \(scale)")
    }
    // A quarter of the float32 payload, plus a scale per tensor.
    XCTAssertEqual(features(.int8).encoded().count, 24 + (1 + 16 + 4 + 96) + (1 + 8 + 4 + 10) + 4)
  }

  func testFailureFramesCarryTheirReason() throws {
    let f = Frame.failure(taskId: 9, "worker 2: segment input has shape [1, 3]")
    XCTAssertEqual(try Frame.decode(complete: f.encoded()), f)
  }

  func testControlFramesCarryTextAndNoTensors() throws {
    let plan = ChainPlanMessage(epoch: 2, cutAfter: ["relu1"], workers: ["127.0.0.1:7001"])
    for f in [
      Frame.control(.plan, tag: 1, plan.encoded()), .control(.planned, tag: 1, "epoch 2: 2 segments"),
      .control(.down, tag: 2, "the worker of segment 2 closed its connection"),
    ] {
      XCTAssertEqual(try Frame.decode(complete: f.encoded()), f)
      var b = f.encoded()
      b[7] = 1  // a tensor declared on a text frame
      assertRejected(resealed(b), naming: "frame.count")
    }
    XCTAssertEqual(try ChainPlanMessage.decode(plan.encoded()), plan)
    XCTAssertEqual(plan.encoded(), #"{"cut_after":["relu1"],"epoch":2,"workers":["127.0.0.1:7001"]}"#)
    XCTAssertThrowsError(try ChainPlanMessage.decode(#"{"cut_after":[],"epoch":1,"workers":["a:1"]}"#))
    XCTAssertThrowsError(try ChainPlanMessage.decode("not json"))
  }

  func testEveryTruncationWaitsForMoreAndIsRejectedWhenFinal() throws {
    let bytes = features().encoded()
    for n in 0..<bytes.count {
      XCTAssertNil(try Frame.decode(bytes[0..<n]), "prefix of \(n) bytes")
      XCTAssertThrowsError(try Frame.decode(complete: Array(bytes[0..<n])))
    }
  }

  func testStreamOfFramesDecodesOneAtATime() throws {
    let a = features()
    let b = Frame.failure(taskId: 3, "x")
    let stream = a.encoded() + b.encoded()
    let (first, used) = try XCTUnwrap(Frame.decode(stream[...]))
    XCTAssertEqual(first, a)
    let (second, used2) = try XCTUnwrap(Frame.decode(stream[used...]))
    XCTAssertEqual(second, b)
    XCTAssertEqual(used + used2, stream.count)
  }

  func testCorruptFieldsAreRejectedWithTheirName() {
    let good = features().encoded()
    var b = good
    b[0] = UInt8(ascii: "X")
    assertRejected(b, naming: "frame.magic")
    b = good
    b[4] = 9
    assertRejected(resealed(b), naming: "frame.version")
    b = good
    b[5] = 7
    assertRejected(resealed(b), naming: "frame.kind")
    b = good
    b[6] = 4
    assertRejected(resealed(b), naming: "frame.encoding")
    b = good
    b[23] = 0x7F  // length ≈ 2 GB
    assertRejected(b, naming: "frame.length")
    b = good
    b[24] = 0  // rank 0
    assertRejected(resealed(b), naming: "frame.tensors[0].rank")
    b = good
    b[25] = 0  // first dimension 0
    b[26] = 0
    assertRejected(resealed(b), naming: "frame.tensors[0].dims")
    b = good
    b[25] = 3  // batch 3 instead of 2: the data runs short of the shape
    assertRejected(resealed(b), naming: "frame.tensors")
    b = good
    b[7] = 1  // one tensor declared, two sent: bytes left over
    assertRejected(resealed(b), naming: "frame.length")
    b = good
    b[100] ^= 0x10  // a flipped data bit
    assertRejected(b, naming: "frame.checksum")
    var q = features(.int8).encoded()
    for i in 0..<4 { q[24 + 1 + 16 + i] = 0 }  // scale 0
    assertRejected(resealed(q), naming: "frame.tensors[0].scale")
  }

  func testRandomCorruptionNeverCrashes() {
    var g = SeededGenerator(seed: 5)
    let good = features().encoded()
    var rejected = 0
    for trial in 0..<2000 {
      var b = good
      for _ in 0..<(1 + Int(g.next() % 4)) {
        b[Int(g.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: g.next())
      }
      if trial % 2 == 0 { b = resealed(b) }
      if trial % 3 == 0 { b = Array(b.prefix(Int(g.next() % UInt64(b.count)))) }
      do {
        _ = try Frame.decode(complete: b)
      } catch {
        rejected += 1
      }
    }
    XCTAssertGreaterThan(rejected, 1000)
  }
}
