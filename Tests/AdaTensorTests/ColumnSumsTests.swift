import AdaTensor
import TestSupport
import XCTest

final class ColumnSumsTests: XCTestCase {
  func testBlockedSumsMatchTheDoubleReference() {
    for m in [1, 5, ColumnSums.rowsPerBlock, 3 * ColumnSums.rowsPerBlock + 17] {
      let c = 7
      var g = SeededGenerator(seed: UInt64(m))
      let x = Tensor.uniform([m * c], lo: -1, hi: 1, using: &g).scalars
      let expected = ColumnSums.reference(x, rows: m, columns: c)
      let actual = x.withUnsafeBufferPointer { ColumnSums.sums($0.baseAddress!, rows: m, columns: c) }
      for j in 0..<c {
        XCTAssertEqual(
          actual[j], expected[j], accuracy: 1e-5 * Double(m).squareRoot(), "column \(j), \(m) rows")
      }
    }
  }

  func testHandWorkedSums() {
    let x: [Float] = [1, 2, 3, 4, 5, 6]
    XCTAssertEqual(
      x.withUnsafeBufferPointer { ColumnSums.sums($0.baseAddress!, rows: 3, columns: 2) }, [9, 12])
  }

  func testSumsAreBitIdenticalWhateverTheWorkerCount() {
    let (m, c) = (5 * ColumnSums.rowsPerBlock + 3, 4)
    var g = SeededGenerator(seed: 9)
    let x = Tensor.normal([m * c], mean: 100, std: 1, using: &g).scalars
    func run(_ workers: Int) -> [Double] {
      Parallel.$workers.withValue(workers) {
        Parallel.$minimumWork.withValue(0) {
          x.withUnsafeBufferPointer { ColumnSums.sums($0.baseAddress!, rows: m, columns: c) }
        }
      }
    }
    XCTAssertEqual(run(1), run(2))
    XCTAssertEqual(run(1), run(3))
  }
}
