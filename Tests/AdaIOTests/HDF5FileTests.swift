import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaIO

final class HDF5FileTests: XCTestCase {
  func testOpeningAMissingFileIsFileNotFound() {
    XCTAssertThrowsError(try HDF5File.open("/nonexistent/dir/m.h5")) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .fileNotFound)
      XCTAssertEqual(e.file, "/nonexistent/dir/m.h5")
    }
  }

  func testOpeningATextFileIsBadFormat() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("not.h5")
    try Data("hello, this is not HDF5\n".utf8).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try HDF5File.open(path)) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .badFormat)
      XCTAssertEqual(e.file, path)
    }
  }

  func testOpeningATruncatedFileIsBadFormat() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let full = dir.path("full.h5")
    let f = try HDF5File.create(full)
    try f.root.write(dataset: "x", tensor: ramp([64, 64]))
    try f.close()
    let bytes = try Data(contentsOf: URL(fileURLWithPath: full))
    for fraction in [0.1, 0.5, 0.9] {
      let cut = dir.path("cut-\(fraction).h5")
      try bytes.prefix(Int(Double(bytes.count) * fraction)).write(to: URL(fileURLWithPath: cut))
      XCTAssertThrowsError(
        try {
          let g = try HDF5File.open(cut)
          _ = try g.root.dataset("x").readTensor()
        }()
      ) { error in
        let e = error as! AdaError
        XCTAssertEqual(e.kind, .badFormat, "\(e)")
        XCTAssertEqual(e.file, cut)
      }
    }
  }

  func testInMemoryImageReadsLikeTheFile() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("m.h5")
    let f = try HDF5File.create(path)
    try f.root.write(dataset: "a/b/w", tensor: ramp([3, 4]))
    try f.root.group("a").writeAttribute("name", string: "block")
    try f.close()
    let image = try Data(contentsOf: URL(fileURLWithPath: path))
    let g = try HDF5File.open(image: image, name: "zip:m.h5")
    XCTAssertEqual(try g.root.dataset("a/b/w").readTensor(), ramp([3, 4]))
    XCTAssertEqual(try g.root.group("a").readString(attribute: "name"), "block")
    XCTAssertThrowsError(try HDF5File.open(image: Data("PK".utf8), name: "zip:bad.h5")) {
      XCTAssertEqual(($0 as! AdaError).kind, .badFormat)
    }
  }

  func testUseAfterCloseIsAnErrorNotACrash() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let f = try HDF5File.create(dir.path("c.h5"))
    try f.close()
    try f.close()
    XCTAssertThrowsError(try f.root.createGroup("g"))
  }

  func testConcurrentReadersGetTheSameData() async throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("shared.h5")
    let f = try HDF5File.create(path)
    for i in 0..<8 { try f.root.write(dataset: "t\(i)", tensor: ramp([16, 16], start: Float(i))) }
    try f.close()
    let shared = try HDF5File.open(path)
    let sums = try await withThrowingTaskGroup(of: (Int, Float).self) { group in
      for task in 0..<16 {
        group.addTask {
          let own = try HDF5File.open(path)
          let a = try own.root.dataset("t\(task % 8)").readTensor()
          let b = try shared.root.dataset("t\(task % 8)").readTensor()
          XCTAssertEqual(a, b)
          return (task % 8, a.scalars.reduce(0, +))
        }
      }
      var out: [Int: Float] = [:]
      for try await (i, s) in group { out[i] = s }
      return out
    }
    for i in 0..<8 { XCTAssertEqual(sums[i], ramp([16, 16], start: Float(i)).scalars.reduce(0, +)) }
  }
}
