import AdaIO
import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaFormats

final class DatasetSourceTests: XCTestCase {
  func testFashionMNISTNamesResolveToTheDirectory() throws {
    XCTAssertEqual(
      try DatasetSource.resolve("fashion-mnist", fashionMNISTDirectory: "/data/f"),
      .fashionMNIST(directory: "/data/f"))
    XCTAssertEqual(
      try DatasetSource.resolve("FMNIST", fashionMNISTDirectory: "/x"), .fashionMNIST(directory: "/x"))
    if ProcessInfo.processInfo.environment[DatasetSource.fashionMNISTEnvironmentKey] == nil {
      XCTAssertEqual(
        try DatasetSource.resolve("fashion_mnist"), .fashionMNIST(directory: FashionMNIST.defaultDirectory))
    }
    XCTAssertEqual(try DatasetSource.resolve("fashion-mnist").name, "fashion-mnist")
  }

  func testPathsResolveToHDF5FilesAndLoadWithALimit() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("mine.h5")
    let f = try HDF5File.create(path)
    try f.root.write(dataset: "x", shape: [4, 2, 2, 1], values: [Float](repeating: 0.5, count: 16))
    try f.root.write(dataset: "y", shape: [4], values: [UInt8](arrayLiteral: 0, 1, 0, 1))
    try f.close()
    let source = try DatasetSource.resolve(path)
    XCTAssertEqual(source, .hdf5(path: path))
    XCTAssertEqual(source.name, "mine.h5")
    let d = try source.load(.train, limit: 3)
    XCTAssertEqual(d.images.shape, [3, 2, 2, 1])
    XCTAssertEqual(d.labels, [0, 1, 0])
  }

  func testUnknownNamesAndMissingFilesAreErrors() {
    XCTAssertThrowsError(try DatasetSource.resolve("cifar10")) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .invalidValue)
      XCTAssertNotNil(e.hint)
    }
    XCTAssertThrowsError(try DatasetSource.resolve("data/missing.h5")) {
      XCTAssertEqual(($0 as! AdaError).kind, .fileNotFound)
    }
  }
}
