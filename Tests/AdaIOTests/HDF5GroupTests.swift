import AdaTensor
import TestSupport
import XCTest

@testable import AdaIO

final class HDF5GroupTests: XCTestCase {
  func testNumericAwareOrderPutsTwoBeforeTen() {
    let names = ["vars10", "vars2", "vars1", "dense_10", "dense", "dense_2", "a0b", "a00b", "B"]
    XCTAssertEqual(
      names.sorted(by: numericAwareLess),
      ["B", "a0b", "a00b", "dense", "dense_2", "dense_10", "vars1", "vars2", "vars10"])
    XCTAssertFalse(numericAwareLess("x", "x"))
  }

  func testChildrenAreListedNumericallyAndWalkFindsEveryDataset() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let f = try HDF5File.create(dir.path("g.h5"))
    for i in [10, 2, 0, 1] { try f.root.write(dataset: "layers/d/vars/\(i)", tensor: ramp([i + 1])) }
    try f.root.createGroup("layers/empty")
    XCTAssertEqual(try f.root.group("layers/d/vars").children(), ["0", "1", "2", "10"])
    XCTAssertEqual(try f.root.group("layers").children(ofKind: .group), ["d", "empty"])
    XCTAssertEqual(
      try f.root.walkDatasets(),
      ["layers/d/vars/0", "layers/d/vars/1", "layers/d/vars/2", "layers/d/vars/10"])
    XCTAssertEqual(try f.root.kind(of: "layers/d/vars/2"), .dataset)
    XCTAssertEqual(try f.root.kind(of: "layers/d"), .group)
    XCTAssertNil(try f.root.kind(of: "layers/nope/deeper"))
  }

  func testMissingGroupAndDatasetErrorsNameTheFileAndPath() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("m.h5")
    let f = try HDF5File.create(path)
    try f.root.write(dataset: "w", tensor: ramp([2]))
    XCTAssertThrowsError(try f.root.group("model_weights/dense")) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .missing)
      XCTAssertEqual(e.file, path)
      XCTAssertEqual(e.path, "/model_weights/dense")
    }
    XCTAssertThrowsError(try f.root.group("w")) { XCTAssertEqual(($0 as! AdaError).kind, .badFormat) }
    XCTAssertThrowsError(try f.root.dataset("x")) { error in
      XCTAssertEqual((error as! AdaError).path, "/x")
    }
  }
}
