import AdaIO
import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaFormats

/// HDF5 splits above the memory budget are streamed (`HDF5ExampleReader`) and draw exactly the
/// examples in-memory loading draws, in any order, prepared or not.
final class DatasetStreamingTests: XCTestCase {
  var dir: ScratchDirectory!
  override func setUp() { dir = ScratchDirectory("adaio-stream") }
  override func tearDown() { dir.remove() }

  /// 40 uint8 6×5 grey training images and 7 float test images.
  func writeFile(nanInTest: Bool = false) throws -> String {
    let path = dir.path("small.h5")
    let f = try HDF5File.create(path)
    try f.root.write(
      dataset: "x_train", shape: [40, 6, 5], values: (0..<1200).map { UInt8(($0 * 13) % 256) })
    try f.root.write(dataset: "y_train", shape: [40], values: (0..<40).map { Int64($0 % 4) })
    var test = (0..<(7 * 6 * 5)).map { Float($0) / 210 }
    if nanInTest { test[5 * 30 + 2] = .nan }
    try f.root.write(dataset: "x_test", shape: [7, 6, 5, 1], values: test)
    try f.root.write(dataset: "y_test", shape: [7], values: (0..<7).map { Int64($0 % 4) })
    try f.close()
    return path
  }

  func testATinyBudgetStreamsAndDrawsTheSameExamples() throws {
    let path = try writeFile()
    let memory = try DatasetFile.load(path: path, split: .train)
    let streamed = try DatasetFile.load(path: path, split: .train, maxMemory: 100)
    XCTAssertFalse(memory.isStreamed)
    XCTAssertTrue(streamed.isStreamed)
    XCTAssertEqual(streamed.labels, memory.labels)
    XCTAssertEqual(streamed.exampleShape, [6, 5, 1])
    let order = [39, 0, 17, 18, 19, 3, 17]  // unsorted, with a repeat and a run
    XCTAssertEqual(try streamed.examples(at: order), try memory.examples(at: order))
    let p = ExamplePreparation(resize: ImageResize(height: 8, width: 8), channels: 3, preprocess: .tf)
    XCTAssertEqual(
      try streamed.preparing(p).examples(at: order), try memory.preparing(p).examples(at: order))
    // Views: a subset of a streamed split reads the rows it maps to.
    let view = streamed.subset([30, 31, 2], name: "v")
    XCTAssertTrue(view.isStreamed)
    XCTAssertEqual(try view.examples(at: [2, 0]), try memory.examples(at: [2, 30]))
  }

  func testLimitsAndFloatSplitsStreamToo() throws {
    let path = try writeFile()
    let limited = try DatasetFile.load(path: path, split: .train, limit: 9, maxMemory: 1)
    XCTAssertEqual(limited.count, 9)
    XCTAssertEqual(
      try limited.examples(at: Array(0..<9)), try DatasetFile.load(path: path, split: .train, limit: 9).images
    )
    let test = try DatasetFile.load(path: path, split: .test, maxMemory: 1)
    XCTAssertTrue(test.isStreamed)
    XCTAssertEqual(
      try test.examples(at: [6, 1]), try DatasetFile.load(path: path, split: .test).examples(at: [6, 1]))
  }

  func testNonFiniteStreamedValuesAreReportedWhenRead() throws {
    let path = try writeFile(nanInTest: true)
    let test = try DatasetFile.load(path: path, split: .test, maxMemory: 1)
    XCTAssertNoThrow(try test.examples(at: [0, 1]))
    XCTAssertThrowsError(try test.examples(at: [5])) { e in
      let e = e as! AdaError
      XCTAssertEqual(e.kind, .nonFinite)
      XCTAssertEqual(e.file, path)
      XCTAssertEqual(e.path, "/x_test")
      XCTAssertTrue(e.message.contains("row 5"), e.message)
    }
  }

  func testReadRowsSelectsRunsAndSingles() throws {
    let path = try writeFile()
    let d = try HDF5File.open(path).root.dataset("x_train")
    let all = try d.read(UInt8.self).values
    var out = [UInt8](repeating: 0, count: 4 * 30)
    try out.withUnsafeMutableBufferPointer { (p) throws(AdaError) in
      try d.readRows([2, 3, 4, 38], as: UInt8.self, into: UnsafeMutableRawBufferPointer(p))
    }
    XCTAssertEqual(out, Array(all[60..<150]) + Array(all[(38 * 30)..<(39 * 30)]))
  }
}
