import COpenBLAS

/// Thin singular value decomposition of a row-major matrix, `A = U · diag(σ) · Vᵀ`, through
/// LAPACK `sgesdd_` (divide and conquer), with a plain-loop reference (`SVD.reference`,
/// one-sided Jacobi in Double) beside it.
///
/// Legend: `A` is `[m, n]`, `k = min(m, n)`; `u` is `[m, k]`, `vt` is `[k, n]`, both row-major;
/// `singularValues` has `k` entries in descending order.
///
///     let svd = try SVD(of: w)                // w: [in, out]
///     let r = svd.truncated(rank: 8)          // best rank-8 approximation (Eckart–Young)
///     r.reconstruct()                         // [in, out]
public struct SVD: Sendable {
  /// `[m, k]`, orthonormal columns.
  public var u: Tensor
  /// `k` values, descending, ≥ 0.
  public var singularValues: [Float]
  /// `[k, n]`, orthonormal rows.
  public var vt: Tensor

  public init(u: Tensor, singularValues: [Float], vt: Tensor) {
    precondition(u.rank == 2 && vt.rank == 2, "SVD: u and vt must be matrices")
    precondition(
      u.shape[1] == singularValues.count && vt.shape[0] == singularValues.count,
      "SVD: u \(u.shape), σ \(singularValues.count), vt \(vt.shape) disagree on the rank")
    self.u = u
    self.singularValues = singularValues
    self.vt = vt
  }

  public var rank: Int { singularValues.count }

  /// Decomposes `a` (`[m, n]`) with LAPACK.
  ///
  /// LAPACK is column-major, and a row-major `[m, n]` buffer is the column-major `Aᵀ` (`n × m`).
  /// `Aᵀ = V Σ Uᵀ`, so LAPACK's left factor is `V` (column-major `n × k` = row-major `Vᵀ [k, n]`)
  /// and its right factor is `Uᵀ` (column-major `k × m` = row-major `U [m, k]`): no transposes.
  ///
  /// - Throws: `.nonFinite` for NaN/∞ entries; `.internalError` if LAPACK does not converge.
  public init(of a: Tensor) throws(AdaError) {
    precondition(a.rank == 2, "SVD: expects a matrix [m, n], got \(a.shape)")
    let (m, n) = (a.shape[0], a.shape[1])
    let k = min(m, n)
    if k == 0 {
      self.init(u: Tensor(shape: [m, 0]), singularValues: [], vt: Tensor(shape: [0, n]))
      return
    }
    if let bad = a.scalars.firstIndex(where: { !$0.isFinite }) {
      throw AdaError(.nonFinite, "SVD of a matrix holding \(a.scalars[bad]) at flat index \(bad)")
    }
    var work = a.scalars  // destroyed by sgesdd_
    var s = [Float](repeating: 0, count: k)
    var left = [Float](repeating: 0, count: n * k)  // V, column-major n × k
    var right = [Float](repeating: 0, count: k * m)  // Uᵀ, column-major k × m
    var iwork = [Int32](repeating: 0, count: 8 * k)
    var jobz = Int8(UInt8(ascii: "S"))
    var rows = Int32(n), cols = Int32(m), lda = Int32(n), ldu = Int32(n), ldvt = Int32(k)
    var info: Int32 = 0
    var query: Float = 0
    var lwork: Int32 = -1
    sgesdd_(
      &jobz, &rows, &cols, &work, &lda, &s, &left, &ldu, &right, &ldvt, &query, &lwork, &iwork,
      &info)
    lwork = Int32(query.rounded(.up)) + 1
    var scratch = [Float](repeating: 0, count: Int(lwork))
    sgesdd_(
      &jobz, &rows, &cols, &work, &lda, &s, &left, &ldu, &right, &ldvt, &scratch, &lwork, &iwork,
      &info)
    guard info == 0 else {
      throw AdaError(
        .internalError, "LAPACK sgesdd_ failed on a [\(m), \(n)] matrix (info \(info))")
    }
    self.init(
      u: Tensor(shape: [m, k], scalars: right), singularValues: s,
      vt: Tensor(shape: [k, n], scalars: left))
  }

  /// The first `r` singular triplets (`0 ≤ r ≤ rank`): the best rank-`r` approximation.
  public func truncated(rank r: Int) -> SVD {
    precondition(r >= 0 && r <= rank, "SVD.truncated: rank \(r) outside 0...\(rank)")
    let (m, n, k) = (u.shape[0], vt.shape[1], rank)
    var uu = [Float](repeating: 0, count: m * r)
    for i in 0..<m { for j in 0..<r { uu[i * r + j] = u.scalars[i * k + j] } }
    return SVD(
      u: Tensor(shape: [m, r], scalars: uu), singularValues: Array(singularValues.prefix(r)),
      vt: Tensor(shape: [r, n], scalars: Array(vt.scalars.prefix(r * n))))
  }

  /// `(U·√Σ, √Σ·Vᵀ)`: the two factors of a balanced split, `[m, k]` and `[k, n]`.
  public func balancedFactors() -> (left: Tensor, right: Tensor) {
    let (m, n, k) = (u.shape[0], vt.shape[1], rank)
    let root = singularValues.map { $0.squareRoot() }
    var l = u.scalars
    for i in 0..<m { for j in 0..<k { l[i * k + j] *= root[j] } }
    var r = vt.scalars
    for j in 0..<k { for c in 0..<n { r[j * n + c] *= root[j] } }
    return (Tensor(shape: [m, k], scalars: l), Tensor(shape: [k, n], scalars: r))
  }

  /// `U · diag(σ) · Vᵀ`, `[m, n]`.
  public func reconstruct() -> Tensor {
    let (m, n, k) = (u.shape[0], vt.shape[1], rank)
    var out = Tensor(shape: [m, n])
    if k == 0 { return out }
    var us = u.scalars
    for i in 0..<m { for j in 0..<k { us[i * k + j] *= singularValues[j] } }
    Gemm.sgemm(
      transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: us, lda: k, b: vt.scalars,
      ldb: n, beta: 0, c: &out.scalars, ldc: n)
    return out
  }
}
