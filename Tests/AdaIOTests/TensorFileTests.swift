import AdaCore
import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaIO

final class TensorFileTests: XCTestCase {
  func testWriteThenReadRoundTripsSeveralTensors() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("io.h5")
    let x = ramp([2, 3, 3, 1], start: -1)
    let y = ramp([2, 10], step: 0.01)
    try TensorFile.write([("x", x), ("outputs/y0", y)], to: path)
    XCTAssertEqual(try TensorFile.read(path: path), x)
    XCTAssertEqual(try TensorFile.read(path: path, dataset: "outputs/y0"), y)
    XCTAssertEqual(try TensorFile.datasetNames(path: path), ["outputs/y0", "x"])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path), ["io.h5"])
  }

  func testIntegerInputsAreConvertedToFloat() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("u8.h5")
    let f = try HDF5File.create(path)
    try f.root.write(dataset: "x", shape: [1, 2, 2], values: [UInt8](arrayLiteral: 0, 7, 200, 255))
    try f.close()
    XCTAssertEqual(try TensorFile.read(path: path), Tensor(shape: [1, 2, 2], scalars: [0, 7, 200, 255]))
  }

  func testMissingDatasetListsTheOnesThatExist() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("io.h5")
    try TensorFile.write([("inputs", ramp([2])), ("labels", ramp([2]))], to: path)
    XCTAssertThrowsError(try TensorFile.read(path: path, dataset: "x")) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .missing)
      XCTAssertEqual(e.file, path)
      XCTAssertEqual(e.path, "x")
      XCTAssertTrue(e.message.contains("inputs, labels"), e.message)
    }
  }

  func testBadFilesAndNamesAreReported() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    XCTAssertThrowsError(try TensorFile.read(path: dir.path("none.h5"))) {
      XCTAssertEqual(($0 as! AdaError).kind, .fileNotFound)
    }
    try Data("x,y\n1,2\n".utf8).write(to: dir.url.appendingPathComponent("t.csv"))
    XCTAssertThrowsError(try TensorFile.read(path: dir.path("t.csv"))) {
      XCTAssertEqual(($0 as! AdaError).kind, .badFormat)
    }
    XCTAssertThrowsError(try TensorFile.write([("y", ramp([1])), ("y", ramp([1]))], to: dir.path("d.h5"))) {
      XCTAssertEqual(($0 as! AdaError).kind, .invalidValue)
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("d.h5")))
  }

  func testAtomicWriteReplacesWholeFilesAndCleansUpOnError() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("out.h5")
    try TensorFile.write([("y", ramp([3]))], to: path)
    XCTAssertThrowsError(
      try AtomicFile.write(to: path) { (tmp) throws(AdaError) in
        _ = FileManager.default.createFile(atPath: tmp, contents: Data("partial".utf8))
        throw AdaError(.writeFailed, file: tmp, "disk full")
      }
    ) { error in
      XCTAssertEqual((error as! AdaError).file, path, "errors name the requested file, not the temporary")
    }
    XCTAssertEqual(try TensorFile.read(path: path, dataset: "y"), ramp([3]))
    XCTAssertFalse(FileManager.default.fileExists(atPath: AtomicFile.temporaryPath(for: path)))
  }
}
