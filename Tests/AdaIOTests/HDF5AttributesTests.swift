import AdaTensor
import TestSupport
import XCTest

@testable import AdaIO

final class HDF5AttributesTests: XCTestCase {
  func testEveryAttributeKindRoundTrips() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("attrs.h5")
    let f = try HDF5File.create(path)
    let g = try f.root.createGroup("model_weights/dense")
    try g.writeAttribute("vlen", string: "{\"class_name\": \"Functional\"} ✓")
    try g.writeAttribute("fixed", string: "jax", storage: .fixedLength)
    try g.writeAttribute("names", strings: ["dense/kernel", "dense/bias", "ü"])
    try g.writeAttribute("fixednames", strings: ["a", "bbb", ""], storage: .fixedLength)
    try g.writeAttribute("f64", values: [1.5, -2.0])
    try g.writeAttribute("i32", values: [Int32(7)], shape: [])
    try g.writeAttribute("empty", values: [Double](), shape: [0])
    let d = try f.root.write(dataset: "model_weights/dense/k", tensor: ramp([2]))
    try d.writeAttribute("dtype", string: "bfloat16")
    try f.close()

    let h = try HDF5File.open(path)
    let r = try h.root.group("model_weights/dense")
    XCTAssertEqual(try r.readString(attribute: "vlen"), "{\"class_name\": \"Functional\"} ✓")
    XCTAssertEqual(try r.readString(attribute: "fixed"), "jax")
    XCTAssertEqual(try r.readStrings(attribute: "names"), ["dense/kernel", "dense/bias", "ü"])
    XCTAssertEqual(try r.readStrings(attribute: "fixednames"), ["a", "bbb", ""])
    XCTAssertEqual(try r.readNumbers(attribute: "f64"), [1.5, -2.0])
    XCTAssertEqual(try r.readAttribute("i32"), .numbers(shape: [], values: [7]))
    XCTAssertEqual(try r.readStrings(attribute: "empty"), [])
    XCTAssertEqual(
      try r.attributeNames(), ["empty", "f64", "fixed", "fixednames", "i32", "names", "vlen"])
    XCTAssertEqual(try h.root.dataset("model_weights/dense/k").readString(attribute: "dtype"), "bfloat16")
    XCTAssertTrue(try r.hasAttribute("vlen"))
    XCTAssertFalse(try r.hasAttribute("nope"))
  }

  func testLargeStringListsAreSplitLikeKerasAndReadBack() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("split.h5")
    let f = try HDF5File.create(path)
    let names = (0..<5000).map { "block_\($0)_expand_conv_bn" }  // 5000 × 26 bytes ≈ 127 KB
    let small = ["conv1", "bn1"]
    try f.root.writeSplitStrings("layer_names", names)
    try f.root.writeSplitStrings("small", small)
    try f.root.writeSplitStrings("none", [])
    try f.close()

    let h = try HDF5File.open(path)
    let attrs = try h.root.attributeNames()
    XCTAssertEqual(attrs, ["layer_names0", "layer_names1", "none", "small"])
    XCTAssertEqual(try h.root.readStrings(attribute: "layer_names0").count, 2500)
    XCTAssertEqual(try h.root.readSplitStrings(attribute: "layer_names"), names)
    XCTAssertEqual(try h.root.readSplitStrings(attribute: "small"), small)
    XCTAssertEqual(try h.root.readSplitStrings(attribute: "none"), [])
    XCTAssertNil(try h.root.readSplitStrings(attribute: "absent"))
  }

  func testSplitChunksFollowNumpyArraySplit() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let f = try HDF5File.create(dir.path("chunks.h5"))
    // 7 names of 10 bytes with a 30-byte limit: 3 chunks of sizes 3, 2, 2.
    let names = (0..<7).map { String(format: "name_%05d", $0) }
    try f.root.writeSplitStrings("n", names, limit: 30)
    XCTAssertEqual(try f.root.readStrings(attribute: "n0").count, 3)
    XCTAssertEqual(try f.root.readStrings(attribute: "n1").count, 2)
    XCTAssertEqual(try f.root.readStrings(attribute: "n2").count, 2)
    XCTAssertEqual(try f.root.readSplitStrings(attribute: "n"), names)
  }

  func testMissingAttributeAndWrongKindNameTheLocation() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("a.h5")
    let f = try HDF5File.create(path)
    try f.root.writeAttribute("n", values: [1.0])
    XCTAssertThrowsError(try f.root.readString(attribute: "model_config")) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .missing)
      XCTAssertEqual(e.file, path)
      XCTAssertEqual(e.path, "/@model_config")
    }
    XCTAssertThrowsError(try f.root.readString(attribute: "n")) {
      XCTAssertEqual(($0 as! AdaError).kind, .badFormat)
    }
  }
}
