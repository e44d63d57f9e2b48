import AdaIO
import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaFormats

final class DatasetFileTests: XCTestCase {
  func testTrainAndTestSplitsWithUInt8ImagesAreScaled() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("digits.h5")
    let f = try HDF5File.create(path)
    try f.root.write(dataset: "x_train", shape: [3, 2, 2], values: (0..<12).map { UInt8($0 * 20) })
    try f.root.write(dataset: "y_train", shape: [3], values: [Int64](arrayLiteral: 0, 2, 1))
    try f.root.write(dataset: "x_test", shape: [1, 2, 2], values: [UInt8](repeating: 255, count: 4))
    try f.root.write(dataset: "y_test", shape: [1, 1], values: [Int32](arrayLiteral: 4))
    try f.root.writeAttribute("name", string: "digits")
    try f.close()

    let train = try DatasetFile.load(path: path, split: .train)
    XCTAssertEqual(train.images.shape, [3, 2, 2, 1])
    XCTAssertEqual(train.images[1, 0, 0, 0], 80 / 255)
    XCTAssertEqual(train.labels, [0, 2, 1])
    XCTAssertEqual(train.classCount, 5, "largest label over both splits is 4")
    XCTAssertEqual(train.name, "digits-train")
    let test = try DatasetFile.load(path: path, split: .test)
    XCTAssertEqual(test.images.scalars, [1, 1, 1, 1])
    XCTAssertEqual(test.labels, [4])
  }

  func testPlainXYWithFloatImagesAndClassCountAttribute() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("feat.h5")
    let f = try HDF5File.create(path)
    try f.root.write(dataset: "x", shape: [2, 3], values: [Float](arrayLiteral: 0.5, -1, 2, 3, 4, 5))
    try f.root.write(dataset: "y", shape: [2], values: [Double](arrayLiteral: 1, 0))
    try f.root.writeAttribute("class_count", values: [Int32(7)], shape: [])
    try f.close()
    let d = try DatasetFile.load(path: path, split: .train)
    XCTAssertEqual(d.images, Tensor(shape: [2, 3], scalars: [0.5, -1, 2, 3, 4, 5]))
    XCTAssertEqual(d.labels, [1, 0])
    XCTAssertEqual(d.classCount, 7)
    XCTAssertThrowsError(try DatasetFile.load(path: path, split: .test)) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .missing)
      XCTAssertEqual(e.path, "x_test")
      XCTAssertTrue(e.message.contains("x, y"), e.message)
    }
  }

  func testInconsistentFilesAreLocatedErrors() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    func make(_ name: String, _ fill: (HDF5Group) throws -> Void) throws -> String {
      let path = dir.path(name)
      let f = try HDF5File.create(path)
      try fill(f.root)
      try f.close()
      return path
    }
    let cases: [(String, AdaError.Kind, String)] = [
      (
        try make("count.h5") { g in
          try g.write(dataset: "x", shape: [3, 2], values: [Float](repeating: 0, count: 6))
          try g.write(dataset: "y", shape: [2], values: [Int32](arrayLiteral: 0, 1))
        }, .badShape, "y"
      ),
      (
        try make("frac.h5") { g in
          try g.write(dataset: "x", shape: [2, 2], values: [Float](repeating: 0, count: 4))
          try g.write(dataset: "y", shape: [2], values: [Float](arrayLiteral: 0, 1.5))
        }, .invalidValue, "y"
      ),
      (
        try make("range.h5") { g in
          try g.write(dataset: "x", shape: [2, 2], values: [Float](repeating: 0, count: 4))
          try g.write(dataset: "y", shape: [2], values: [Int32](arrayLiteral: 0, 3))
          try g.writeAttribute("class_count", values: [Int32(2)], shape: [])
        }, .invalidValue, "y"
      ),
      (
        try make("int32.h5") { g in
          try g.write(dataset: "x", shape: [2, 2], values: [Int32](repeating: 0, count: 4))
          try g.write(dataset: "y", shape: [2], values: [Int32](arrayLiteral: 0, 1))
        }, .unsupported, "x"
      ),
      (
        try make("nan.h5") { g in
          try g.write(dataset: "x", shape: [1, 2], values: [Float](arrayLiteral: 0, .nan))
          try g.write(dataset: "y", shape: [1], values: [Int32](arrayLiteral: 0))
        }, .nonFinite, "x"
      ),
      (
        try make("empty.h5") { g in try g.write(dataset: "labels", shape: [1], values: [Float(0)]) },
        .missing, "x"
      ),
    ]
    for (path, kind, location) in cases {
      XCTAssertThrowsError(try DatasetFile.load(path: path, split: .train), path) { error in
        let e = error as! AdaError
        XCTAssertEqual(e.kind, kind, "\(path): \(e)")
        XCTAssertEqual(e.file, path)
        XCTAssertEqual(e.path?.split(separator: "/").last.map(String.init), location, "\(e)")
      }
    }
  }
}
