import AdaCore
import XCTest

final class StableHasherTests: XCTestCase {
  func testBytesFollowPublishedFNV1a64Values() {
    // FNV-1a 64 test vectors: "" → cbf29ce484222325, "a" → af63dc4c8601ec8c,
    // "foobar" → 85944171f73967e8.
    func fnv(_ s: String) -> String {
      var h = StableHasher()
      Array(s.utf8).withUnsafeBytes { h.combine(bytes: $0) }
      return h.hexDigest
    }
    XCTAssertEqual(fnv(""), "cbf29ce484222325")
    XCTAssertEqual(fnv("a"), "af63dc4c8601ec8c")
    XCTAssertEqual(fnv("foobar"), "85944171f73967e8")
  }

  func testStringsAreLengthDelimited() {
    var a = StableHasher(), b = StableHasher()
    a.combine("ab")
    a.combine("c")
    b.combine("a")
    b.combine("bc")
    XCTAssertNotEqual(a.value, b.value)
  }

  func testOneShotBytesHashIsTheStreamingHashWithoutALength() {
    var h = StableHasher()
    Array("foobar".utf8).withUnsafeBytes { h.combine(bytes: $0) }
    XCTAssertEqual(StableHasher.hash(bytes: "foobar".utf8), h.value)
    XCTAssertEqual(StableHasher.hex(bytes: Array("a".utf8)), "af63dc4c8601ec8c")
    XCTAssertEqual(StableHasher.hex(bytes: [UInt8]()), "cbf29ce484222325")
  }
}
