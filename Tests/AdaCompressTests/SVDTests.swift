import AdaTensor
import TestSupport
import XCTest

final class SVDTests: XCTestCase {
  func matrix(_ m: Int, _ n: Int, seed: UInt64) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.uniform([m, n], lo: -1, hi: 1, using: &g)
  }

  /// Frobenius norm squared, in Double.
  func frobenius2(_ t: Tensor) -> Double { t.scalars.reduce(0) { $0 + Double($1) * Double($1) } }

  func testFullRankSVDReconstructsTheMatrixForTallWideAndSquareShapes() throws {
    for (m, n) in [(7, 4), (4, 7), (6, 6), (1, 5), (5, 1)] {
      let a = matrix(m, n, seed: UInt64(10 * m + n))
      let svd = try SVD(of: a)
      XCTAssertEqual(svd.u.shape, [m, min(m, n)])
      XCTAssertEqual(svd.vt.shape, [min(m, n), n])
      assertClose(svd.reconstruct(), a, rtol: 1e-5, "[\(m), \(n)]")
    }
  }

  func testSingularValuesAreDescendingAndFactorsOrthonormal() throws {
    let svd = try SVD(of: matrix(9, 5, seed: 3))
    XCTAssertEqual(svd.singularValues, svd.singularValues.sorted(by: >))
    // Uᵀ U = I (k × k) and Vᵀ rows orthonormal: V Vᵀ = I.
    let (m, k, n) = (9, 5, 5)
    var utu = [Float](repeating: 0, count: k * k)
    var vvt = [Float](repeating: 0, count: k * k)
    for i in 0..<k {
      for j in 0..<k {
        for r in 0..<m { utu[i * k + j] += svd.u.scalars[r * k + i] * svd.u.scalars[r * k + j] }
        for c in 0..<n { vvt[i * k + j] += svd.vt.scalars[i * n + c] * svd.vt.scalars[j * n + c] }
      }
    }
    let identity = (0..<k * k).map { $0 / k == $0 % k ? Float(1) : 0 }
    assertClose(utu, identity, atol: 1e-5, "UᵀU")
    assertClose(vvt, identity, atol: 1e-5, "VVᵀ")
  }

  func testLAPACKSingularValuesMatchThePlainJacobiReference() throws {
    for (m, n) in [(8, 5), (5, 8), (6, 6)] {
      let a = matrix(m, n, seed: UInt64(m * n))
      let fast = try SVD(of: a)
      let slow = SVD.reference(a)
      assertClose(fast.singularValues, slow.singularValues, rtol: 1e-5, "[\(m), \(n)]")
      assertClose(slow.reconstruct(), a, rtol: 1e-5, "reference reconstruction [\(m), \(n)]")
    }
  }

  func testTruncationErrorEqualsTheSumOfDroppedSquaredSingularValues() throws {
    let a = matrix(12, 8, seed: 5)
    let svd = try SVD(of: a)
    for r in [0, 1, 3, 6, 8] {
      var diff = svd.truncated(rank: r).reconstruct()
      diff.add(a, scaledBy: -1)
      let dropped = svd.singularValues.dropFirst(r).reduce(0.0) { $0 + Double($1) * Double($1) }
      XCTAssertEqual(frobenius2(diff), dropped, accuracy: 1e-4 * frobenius2(a), "rank \(r)")
    }
  }

  func testTruncationKeepsTheBestApproximationAmongRandomRankRCompetitors() throws {
    // Eckart–Young: a rank-2 product of random factors is never closer than the SVD's.
    let a = matrix(6, 5, seed: 9)
    var best = try SVD(of: a).truncated(rank: 2).reconstruct()
    best.add(a, scaledBy: -1)
    var g = SeededGenerator(seed: 1)
    for _ in 0..<20 {
      let l = Tensor.uniform([6, 2], lo: -1, hi: 1, using: &g)
      let r = Tensor.uniform([2, 5], lo: -1, hi: 1, using: &g)
      var other = SVD(u: l, singularValues: [1, 1], vt: r).reconstruct()
      other.add(a, scaledBy: -1)
      XCTAssertGreaterThanOrEqual(frobenius2(other), frobenius2(best))
    }
  }

  func testBalancedFactorsMultiplyBackToTheMatrix() throws {
    let a = matrix(5, 7, seed: 2)
    let (l, r) = try SVD(of: a).balancedFactors()
    let product = SVD(u: l, singularValues: [Float](repeating: 1, count: 5), vt: r).reconstruct()
    assertClose(product, a, rtol: 1e-5)
  }

  func testNonFiniteInputIsRejectedWithItsPosition() {
    var a = matrix(3, 3, seed: 1)
    a.scalars[4] = .nan
    XCTAssertThrowsError(try SVD(of: a)) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .nonFinite)
      XCTAssertTrue(e.message.contains("index 4"), e.message)
    }
  }
}
