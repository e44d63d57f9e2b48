import AdaTensor
import CGzip
import Foundation
import TestSupport
import XCTest

@testable import AdaFormats

/// Writes IDX files with zlib, as the tests need them.
enum IDXMaker {
  static func bytes(dims: [Int], data: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
    var out: [UInt8] = [0, 0, type, UInt8(dims.count)]
    for d in dims {
      out += [UInt8(d >> 24 & 0xff), UInt8(d >> 16 & 0xff), UInt8(d >> 8 & 0xff), UInt8(d & 0xff)]
    }
    return out + data
  }

  static func writeGzip(_ bytes: [UInt8], to path: String) {
    let gz = gzopen(path, "wb")!
    bytes.withUnsafeBytes { _ = gzwrite(gz, $0.baseAddress, UInt32($0.count)) }
    gzclose(gz)
  }
}

final class IDXFileTests: XCTestCase {
  func testGzipAndPlainIDXReadTheSame() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let data = (0..<24).map { UInt8($0 * 10) }
    let raw = IDXMaker.bytes(dims: [2, 3, 4], data: data)
    IDXMaker.writeGzip(raw, to: dir.path("a.gz"))
    try Data(raw).write(to: dir.url.appendingPathComponent("a.idx"))
    for name in ["a.gz", "a.idx"] {
      let (dims, bytes) = try IDXFile.read(path: dir.path(name))
      XCTAssertEqual(dims, [2, 3, 4], name)
      XCTAssertEqual(bytes, data, name)
    }
  }

  func testHeaderAndSizeProblemsNameTheFile() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let cases: [(String, [UInt8], AdaError.Kind, String)] = [
      ("magic", [1, 2, 8, 1, 0, 0, 0, 1, 9], .badFormat, "magic"),
      ("type", IDXMaker.bytes(dims: [1], data: [0, 0, 0, 0], type: 0x0D), .unsupported, "0x0d"),
      (
        "short", IDXMaker.bytes(dims: [10, 10], data: [UInt8](repeating: 1, count: 50)), .badFormat,
        "50 of 100"
      ),
      ("long", IDXMaker.bytes(dims: [2], data: [1, 2, 3]), .badFormat, "after the 2 elements"),
      ("header", [0, 0, 8], .badFormat, "header"),
      ("huge", IDXMaker.bytes(dims: [65535, 65535, 65535], data: []), .badFormat, "implausibly"),
      // Under the absolute limit but far more than a few bytes can hold: refused before allocating.
      ("past the file", IDXMaker.bytes(dims: [60000, 100, 100], data: []), .badFormat, "even compressed"),
    ]
    for (name, bytes, kind, words) in cases {
      let path = dir.path("\(name).gz")
      IDXMaker.writeGzip(bytes, to: path)
      XCTAssertThrowsError(try IDXFile.read(path: path), name) { error in
        let e = error as! AdaError
        XCTAssertEqual(e.kind, kind, "\(name): \(e)")
        XCTAssertEqual(e.file, path)
        XCTAssertTrue(e.message.contains(words), "\(name): \(e.message)")
      }
    }
  }

  func testTruncatedGzipStreamIsBadFormat() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let full = dir.path("full.gz")
    IDXMaker.writeGzip(
      IDXMaker.bytes(dims: [1000], data: (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }), to: full)
    let gz = try Data(contentsOf: URL(fileURLWithPath: full))
    let cut = dir.path("cut.gz")
    try gz.prefix(gz.count / 2).write(to: URL(fileURLWithPath: cut))
    XCTAssertThrowsError(try IDXFile.read(path: cut)) { error in
      XCTAssertEqual((error as! AdaError).kind, .badFormat)
      XCTAssertEqual((error as! AdaError).file, cut)
    }
    XCTAssertThrowsError(try IDXFile.read(path: dir.path("absent.gz"))) {
      XCTAssertEqual(($0 as! AdaError).kind, .fileNotFound)
    }
  }
}
