import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaIO

/// The global heap check made before HDF5 decodes a variable-length string: the two damages
/// HDF5 1.10 trusts (a free space of size 0, which it reads for ever, and an object past its
/// collection's end), on collections built here byte by byte and on real Keras files.
final class HDF5GlobalHeapTests: XCTestCase {
  /// A collection as HDF5 writes it: `GCOL`, version 1, 3 reserved bytes, its size; then
  /// objects (index, reference count, 4 reserved bytes, size, data padded to 8 bytes) and a
  /// free-space object (index 0) that states the rest of the collection.
  private func collection(
    strings: [String], size: Int = 4096, lengthSize: Int = 8, freeSpace: UInt64? = nil
  ) -> [UInt8] {
    func le(_ value: UInt64, _ width: Int) -> [UInt8] {
      (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
    let header = (8 + lengthSize + 7) & ~7
    var bytes = Array("GCOL".utf8) + [1, 0, 0, 0] + le(UInt64(size), lengthSize)
    bytes += [UInt8](repeating: 0, count: header - bytes.count)
    for (i, s) in strings.enumerated() {
      var object = le(UInt64(i + 1), 2) + le(1, 2) + [0, 0, 0, 0] + le(UInt64(s.utf8.count), lengthSize)
      object += [UInt8](repeating: 0, count: header - object.count)
      object += Array(s.utf8) + [UInt8](repeating: 0, count: (8 - s.utf8.count % 8) % 8)
      bytes += object
    }
    let rest = size - bytes.count
    bytes += le(0, 2) + le(0, 2) + [0, 0, 0, 0] + le(freeSpace ?? UInt64(rest), lengthSize)
    bytes += [UInt8](repeating: 0, count: size - bytes.count)
    return bytes
  }

  private func check(_ bytes: [UInt8], lengthSize: Int = 8) throws(AdaError) {
    try HDF5GlobalHeap.check(bytes, lengthSize: lengthSize, file: "f.h5")
  }

  func testAWellFormedCollectionPasses() throws {
    let prefix = [UInt8](repeating: 0x47, count: 100)  // 'G's before it: the scan's first byte
    try check(prefix + collection(strings: ["dense", "dense_1", "a config of some length"]))
    try check(collection(strings: ["x", "yz"], lengthSize: 4), lengthSize: 4)
  }

  func testAFreeSpaceOfSizeZeroIsAnErrorNamingWhere() {
    let bytes = [UInt8](repeating: 7, count: 24) + collection(strings: ["dense"], freeSpace: 0)
    XCTAssertThrowsError(try check(bytes)) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .badFormat)
      XCTAssertEqual(e.file, "f.h5")
      // Collection at 24; its header is 16 bytes, "dense" one object of 16 + 8.
      XCTAssertEqual(e.path, "global heap collection at byte 24, object 0 at byte 64")
      XCTAssertTrue(e.message.contains("free space of size 0"), e.message)
    }
  }

  func testAnObjectPastTheCollectionsEndIsAnError() {
    var bytes = collection(strings: ["dense", "kernel"])
    bytes[16 + 8] = 0xff  // the first object's size: 5 → 255 + 4096 · 15 bytes
    bytes[16 + 9] = 0xf0
    XCTAssertThrowsError(try check(bytes)) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.path, "global heap collection at byte 0, object 1 at byte 16")
      XCTAssertTrue(
        e.message.contains("states 61695 bytes, past the collection's end at byte 4096"), e.message)
    }
  }

  /// Found by fuzz-h5: an object stating 2^64 − 9 … 2^64 − 1 bytes overflowed the check's own
  /// sum (header + padded size), a trap in the decode.
  func testAnObjectStatingNearlyTwoToTheSixtyFourBytesIsAnErrorNotATrap() {
    for size: UInt64 in [.max, .max - 7, .max - 8, .max - 15] {
      var bytes = collection(strings: ["dense"])
      for i in 0..<8 { bytes[16 + 8 + i] = UInt8(truncatingIfNeeded: size >> (8 * UInt64(i))) }
      XCTAssertThrowsError(try check(bytes), "\(size)") { error in
        XCTAssertTrue(
          (error as! AdaError).message.contains("states \(size) bytes, past the collection's end"))
      }
    }
  }

  func testBytesThatOnlyLookLikeACollectionArePassedOver() throws {
    // A signature and version in weights, whose "size" does not fit in the file.
    var weights = [UInt8](repeating: 0, count: 64)
    weights.replaceSubrange(8..<13, with: Array("GCOL".utf8) + [1])
    weights[16 + 7] = 0x40  // size 2^62
    try check(weights)
    // Version 2 is not a collection HDF5 reads.
    var other = collection(strings: ["a"], freeSpace: 0)
    other[4] = 2
    try check(other)
  }

  func testEveryKerasFixturePasses() throws {
    let directory = Fixtures.url("keras")
    let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
      $0.hasSuffix(".h5")
    }
    XCTAssertGreaterThan(files.count, 5)
    for name in files {
      let path = directory.appendingPathComponent(name).path
      try check([UInt8](Data(contentsOf: URL(fileURLWithPath: path))))
      try HDF5GlobalHeap.check(path: path, lengthSize: 8)
    }
  }

  /// The fixture `keras/mlp.h5` with its collection's free space (object 0 at byte 10208)
  /// stating size 0: on disk the check runs before the first string, in memory at open.
  func testADamagedKerasFileIsRefusedBeforeHDF5ReadsItsStrings() throws {
    var bytes = [UInt8](try Data(contentsOf: Fixtures.url("keras/mlp.h5")))
    XCTAssertEqual(Array(bytes[2048..<2052]), Array("GCOL".utf8))
    for i in 10216..<10224 { bytes[i] = 0 }
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("damaged.h5")
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let file = try HDF5File.open(path)
    for _ in 0..<2 {  // the finding is kept: a second read fails the same way
      XCTAssertThrowsError(try file.root.readString(attribute: "model_config")) { error in
        let e = error as! AdaError
        XCTAssertEqual(e.file, path)
        XCTAssertEqual(e.path, "global heap collection at byte 2048, object 0 at byte 10208")
      }
    }
    XCTAssertThrowsError(try HDF5File.open(image: Data(bytes), name: "m.keras:model.weights.h5")) { error in
      XCTAssertEqual((error as! AdaError).file, "m.keras:model.weights.h5")
    }
  }
}
