import AdaTensor
import Foundation
import XCTest

final class ParallelTests: XCTestCase {
  func testChunksCoverTheRangeExactlyOnceInOrder() {
    for count in 0...9 {
      for chunks in 1...4 where chunks <= max(count, 1) {
        let ranges = (0..<chunks).map { Parallel.chunkRange($0, of: chunks, count: count) }
        XCTAssertEqual(ranges.flatMap { Array($0) }, Array(0..<count), "count \(count), chunks \(chunks)")
      }
    }
  }

  func testSmallWorkStaysInOneChunk() {
    XCTAssertEqual(Parallel.chunkCount(for: 64, work: Parallel.minimumWork - 1), 1)
    XCTAssertEqual(Parallel.chunkCount(for: 1, work: 1 << 30), 1)
    Parallel.$workers.withValue(2) {
      XCTAssertEqual(Parallel.chunkCount(for: 64, work: Parallel.minimumWork), 2)
      XCTAssertEqual(Parallel.chunkCount(for: 3, work: 1 << 30), 2)
    }
    Parallel.$workers.withValue(1) {
      XCTAssertEqual(Parallel.chunkCount(for: 64, work: 1 << 30), 1)
    }
  }

  func testForEachChunkVisitsEveryIndexOnceWhenSplit() {
    let count = 37
    var hits = [Int](repeating: 0, count: count)
    hits.withUnsafeMutableBufferPointer { h in
      Parallel.$workers.withValue(3) {
        Parallel.$minimumWork.withValue(0) {
          XCTAssertEqual(Parallel.chunkCount(for: count, work: 1), 3)
          Parallel.forEachChunk(of: count, work: 1) { range in
            for i in range { h[i] += 1 }
          }
        }
      }
    }
    XCTAssertEqual(hits, [Int](repeating: 1, count: count))
  }
}
