import AdaNN
import AdaTensor
import XCTest

@testable import AdaTrain

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

  func testParametersHashDependsOnKeysShapesAndBits() {
    func hash(_ p: Parameters) -> UInt64 {
      var h = StableHasher()
      h.combine(p)
      return h.value
    }
    let p = Parameters(["a/kernel": Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])])
    XCTAssertEqual(hash(p), hash(Parameters(["a/kernel": Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])])))
    XCTAssertNotEqual(hash(p), hash(Parameters(["a/kernel": Tensor(shape: [4], scalars: [1, 2, 3, 4])])))
    XCTAssertNotEqual(hash(p), hash(Parameters(["b/kernel": Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])])))
    XCTAssertNotEqual(
      hash(p), hash(Parameters(["a/kernel": Tensor(shape: [2, 2], scalars: [1, 2, 3, 4.0000005])])))
    XCTAssertNotEqual(
      hash(Parameters(["k": Tensor(shape: [1], scalars: [0])])),
      hash(Parameters(["k": Tensor(shape: [1], scalars: [-0.0])])),
      "bit patterns, not values")
  }
}
