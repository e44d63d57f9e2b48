import AdaBundle
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// Inputs found by fuzz-manifest (`make fuzz`, docs/testing.md "Fuzzing") that crashed
/// `ModelBundle.open`; each must now be an `AdaError` naming the file.
final class BundleReaderFuzzTests: XCTestCase {
  /// fuzz-manifest, 2026-12-05, after 101 inputs: `{`, four 0xff bytes, ` "c":1}`. Foundation's
  /// JSON5 scanner (the bundle reader accepts JSON5 so that NaN is named, not refused) trapped
  /// decoding the bytes as an unquoted key: `Fatal error` in CodableUtilities.swift:685, a crash
  /// of `adascale run`/`simulate` on a damaged manifest. The text is now checked for UTF-8 first.
  func testAManifestThatIsNotUTF8IsAnErrorNotACrash() throws {
    let dir = Fixtures.temporaryDirectory("adascale-bundle-fuzz")
    defer { try? FileManager.default.removeItem(at: dir) }
    let manifest = dir.appendingPathComponent("manifest.json")
    try FileManager.default.copyItem(
      at: Fixtures.url("fuzz/manifest-json5-invalid-utf8-key.json"), to: manifest)
    try Data("{}".utf8).write(to: dir.appendingPathComponent("lut.json"))
    XCTAssertThrowsError(try ModelBundle.open(dir.path)) { error in
      let e = error as? AdaError
      XCTAssertEqual(e?.kind, .badFormat, "\(error)")
      XCTAssertEqual(e?.file, manifest.path, "\(error)")
      XCTAssertEqual(e?.path, "byte 1", "\(error)")
      XCTAssertTrue(e?.message.contains("not UTF-8 text: byte 1 (0xff)") == true, "\(error)")
    }
  }
}
