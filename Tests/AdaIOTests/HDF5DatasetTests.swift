import AdaTensor
import TestSupport
import XCTest

@testable import AdaIO

final class HDF5DatasetTests: XCTestCase {
  func testEveryDtypeRoundTripsExactly() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("dtypes.h5")
    let f = try HDF5File.create(path)
    try f.root.write(
      dataset: "f32", shape: [2, 3],
      values: [Float](arrayLiteral: 1.5, -2, 3e-8, 4, 5, .greatestFiniteMagnitude))
    try f.root.write(dataset: "f64", shape: [3], values: [Double](arrayLiteral: 1e300, -0.1, 7))
    try f.root.write(dataset: "i8", shape: [3], values: [Int8](arrayLiteral: -128, 0, 127))
    try f.root.write(dataset: "u8", shape: [2, 2], values: [UInt8](arrayLiteral: 0, 1, 254, 255))
    try f.root.write(dataset: "i32", shape: [2], values: [Int32](arrayLiteral: .min, .max))
    try f.root.write(dataset: "i64", shape: [2], values: [Int64](arrayLiteral: .min, 1 << 40))
    try f.root.write(dataset: "scalar", shape: [], values: [Float(42)])
    try f.root.write(dataset: "empty", shape: [0, 3], values: [Float]())
    try f.close()

    let g = try HDF5File.open(path)
    XCTAssertEqual(
      try g.root.dataset("f32").read(Float.self).values, [1.5, -2, 3e-8, 4, 5, .greatestFiniteMagnitude])
    XCTAssertEqual(try g.root.dataset("f32").shape(), [2, 3])
    XCTAssertEqual(try g.root.dataset("f64").read(Double.self).values, [1e300, -0.1, 7])
    XCTAssertEqual(try g.root.dataset("i8").read(Int8.self).values, [-128, 0, 127])
    XCTAssertEqual(try g.root.dataset("u8").read(UInt8.self).values, [0, 1, 254, 255])
    XCTAssertEqual(try g.root.dataset("i32").read(Int32.self).values, [.min, .max])
    XCTAssertEqual(try g.root.dataset("i64").read(Int64.self).values, [.min, 1 << 40])
    XCTAssertEqual(try g.root.dataset("scalar").readTensor(), Tensor(shape: [], scalars: [42]))
    XCTAssertEqual(try g.root.dataset("empty").readTensor().shape, [0, 3])
    XCTAssertEqual(try g.root.dataset("u8").elementClass(), .integer(bytes: 1, signed: false))
    XCTAssertEqual(try g.root.dataset("f64").elementClass(), .float(bytes: 8))
  }

  func testAnyNumericDatasetReadsAsFloat() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let f = try HDF5File.create(dir.path("conv.h5"))
    try f.root.write(dataset: "u8", shape: [4], values: [UInt8](arrayLiteral: 0, 3, 128, 255))
    try f.root.write(dataset: "i64", shape: [2], values: [Int64](arrayLiteral: -5, 9))
    try f.root.write(dataset: "f64", shape: [2], values: [Double](arrayLiteral: 0.5, -1.25))
    XCTAssertEqual(try f.root.dataset("u8").readTensor().scalars, [0, 3, 128, 255])
    XCTAssertEqual(try f.root.dataset("i64").readTensor().scalars, [-5, 9])
    XCTAssertEqual(try f.root.dataset("f64").readTensor().scalars, [0.5, -1.25])
  }

  func testWritingOverAnExistingDatasetIsAnErrorNamingThePath() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let f = try HDF5File.create(dir.path("dup.h5"))
    try f.root.write(dataset: "g/x", tensor: ramp([2]))
    XCTAssertThrowsError(try f.root.write(dataset: "g/x", tensor: ramp([2]))) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .writeFailed)
      XCTAssertEqual(e.path, "/g/x")
    }
  }
}
