import AdaTensor
import TestSupport
import XCTest

/// OpenBLAS `Gemm.sgemm` against the triple-loop `Gemm.reference`, all transpose combinations.
final class GemmTests: XCTestCase {
  func testSgemmMatchesReferenceForAllTransposeCombinations() {
    var g = SeededGenerator(seed: 11)
    let (m, n, k) = (7, 5, 9)
    for transA in [false, true] {
      for transB in [false, true] {
        for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1.5)] {
          let a = Tensor.uniform([m * k], lo: -1, hi: 1, using: &g).scalars
          let b = Tensor.uniform([k * n], lo: -1, hi: 1, using: &g).scalars
          let c0 = Tensor.uniform([m * n], lo: -1, hi: 1, using: &g).scalars
          var expected = c0
          Gemm.reference(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta,
            c: &expected)
          var actual = c0
          actual.withUnsafeMutableBufferPointer { cp in
            Gemm.sgemm(
              transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, b: b,
              beta: beta, c: cp.baseAddress!)
          }
          assertClose(actual, expected, rtol: 1e-5, "transA \(transA) transB \(transB) β \(beta)")
        }
      }
    }
  }

  func testReferenceMatchesHandWorkedProduct() {
    // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]]
    var c = [Float](repeating: 0, count: 4)
    Gemm.reference(m: 2, n: 2, k: 2, a: [1, 2, 3, 4], b: [5, 6, 7, 8], c: &c)
    XCTAssertEqual(c, [19, 22, 43, 50])
    // Aᵀ · B with A stored [k, m] = [[1, 3], [2, 4]] gives the same.
    Gemm.reference(transA: true, m: 2, n: 2, k: 2, a: [1, 3, 2, 4], b: [5, 6, 7, 8], c: &c)
    XCTAssertEqual(c, [19, 22, 43, 50])
  }

  func testSplitGemmsMatchReferenceForAllTransposeCombinations() {
    var g = SeededGenerator(seed: 12)
    let (m, n, k) = (13, 6, 11)
    for workers in [2, 3] {
      for transA in [false, true] {
        for transB in [false, true] {
          let a = Tensor.uniform([m * k], lo: -1, hi: 1, using: &g).scalars
          let b = Tensor.uniform([k * n], lo: -1, hi: 1, using: &g).scalars
          let c0 = Tensor.uniform([m * n], lo: -1, hi: 1, using: &g).scalars
          var expected = c0
          Gemm.reference(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 1.5,
            c: &expected)
          var byRows = c0
          var byDepth = c0
          Parallel.$workers.withValue(workers) {
            Gemm.$minimumParallelFlops.withValue(0) {
              Gemm.$minimumSplitLength.withValue(1) {
                byRows.withUnsafeMutableBufferPointer { cp in
                  Gemm.sgemmSplittingRows(
                    transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b,
                    beta: 1.5, c: cp.baseAddress!)
                }
                byDepth.withUnsafeMutableBufferPointer { cp in
                  Gemm.sgemmSplittingDepth(
                    transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b,
                    beta: 1.5, c: cp.baseAddress!)
                }
              }
            }
          }
          let what = "\(workers) workers, transA \(transA) transB \(transB)"
          assertClose(byRows, expected, rtol: 1e-5, "rows split, " + what)
          assertClose(byDepth, expected, rtol: 1e-5, "depth split, " + what)
        }
      }
    }
  }

  func testParallelSgemmMatchesReferenceWhetherItSplitsRowsOrDepth() {
    var g = SeededGenerator(seed: 13)
    for (m, n, k) in [(40, 3, 5), (4, 3, 50)] {
      let a = Tensor.uniform([m * k], lo: -1, hi: 1, using: &g).scalars
      let b = Tensor.uniform([k * n], lo: -1, hi: 1, using: &g).scalars
      var expected = [Float](repeating: 0, count: m * n)
      Gemm.reference(transA: true, m: m, n: n, k: k, a: a, b: b, c: &expected)
      var actual = [Float](repeating: 0, count: m * n)
      Parallel.$workers.withValue(2) {
        Gemm.$minimumParallelFlops.withValue(0) {
          Gemm.$minimumSplitLength.withValue(2) {
            actual.withUnsafeMutableBufferPointer { cp in
              Gemm.parallelSgemm(transA: true, m: m, n: n, k: k, a: a, b: b, c: cp.baseAddress!)
            }
          }
        }
      }
      assertClose(actual, expected, rtol: 1e-5, "m \(m) n \(n) k \(k)")
    }
  }

  func testSingleThreadScopeRestoresTheBLASThreadCount() {
    let saved = BLAS.threads
    defer { BLAS.threads = saved }
    BLAS.threads = 2
    let inside = BLAS.withSingleThread { BLAS.threads }
    XCTAssertEqual(inside, 1)
    XCTAssertEqual(BLAS.threads, 2)
  }
}
