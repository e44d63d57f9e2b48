import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaFormats

final class FashionMNISTTests: XCTestCase {
  /// A 5-image, 3×2 "Fashion-MNIST" in the real file layout.
  func makeTinySet(in dir: ScratchDirectory, labels: [UInt8] = [0, 9, 3, 3, 1], imageCount: Int = 5) {
    let pixels = (0..<(imageCount * 6)).map { UInt8($0 * 8) }
    IDXMaker.writeGzip(
      IDXMaker.bytes(dims: [imageCount, 3, 2], data: pixels), to: dir.path("t10k-images-idx3-ubyte.gz"))
    IDXMaker.writeGzip(
      IDXMaker.bytes(dims: [labels.count], data: labels), to: dir.path("t10k-labels-idx1-ubyte.gz"))
  }

  func testTinySetLoadsAsScaledNHWC() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    makeTinySet(in: dir)
    let d = try FashionMNIST.load(.test, directory: dir.url.path)
    XCTAssertEqual(d.images.shape, [5, 3, 2, 1])
    XCTAssertEqual(d.labels, [0, 9, 3, 3, 1])
    XCTAssertEqual(d.classCount, 10)
    XCTAssertEqual(d.name, "fashion-mnist-test")
    XCTAssertEqual(d.images[1, 0, 1, 0], Float(7 * 8) / 255)
    XCTAssertEqual(try FashionMNIST.load(.test, directory: dir.url.path, limit: 2).labels, [0, 9])
  }

  func testMismatchedCountsBadLabelsAndMissingFilesAreErrors() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    makeTinySet(in: dir, labels: [0, 1, 2])
    XCTAssertThrowsError(try FashionMNIST.load(.test, directory: dir.url.path)) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .badShape)
      XCTAssertTrue(e.file!.hasSuffix("t10k-labels-idx1-ubyte.gz"))
    }
    makeTinySet(in: dir, labels: [0, 1, 2, 12, 3])
    XCTAssertThrowsError(try FashionMNIST.load(.test, directory: dir.url.path)) {
      XCTAssertEqual(($0 as! AdaError).kind, .invalidValue)
    }
    XCTAssertThrowsError(try FashionMNIST.load(.train, directory: dir.url.path)) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .fileNotFound)
      XCTAssertTrue(e.file!.hasSuffix("train-images-idx3-ubyte.gz"))
      XCTAssertNotNil(e.hint)
    }
  }

  func testInstalledDatasetHasTheKnownSizesWhenPresent() throws {
    guard FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory + "/t10k-labels-idx1-ubyte.gz")
    else {
      throw XCTSkip("dataset-fashion-mnist is not installed")
    }
    let test = try FashionMNIST.load(.test)
    XCTAssertEqual(test.images.shape, [10000, 28, 28, 1])
    XCTAssertEqual(Array(test.labels.prefix(10)), [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
    XCTAssertEqual(Set(test.labels).count, 10)
    XCTAssertTrue(test.images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
  }
}
