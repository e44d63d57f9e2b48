import Foundation

extension SVD {
  /// Plain-loop reference: one-sided Jacobi (Hestenes) in Double, independent of LAPACK.
  /// Slow (O(k²·max(m, n)) per sweep); for tests and small matrices only.
  ///
  /// Orthogonalises the columns of `W = A` (or of `Aᵀ` when `m < n`) by plane rotations applied
  /// on the right, accumulated in `V`; at convergence `W = U·Σ`, so `σⱼ = ‖Wⱼ‖`, `Uⱼ = Wⱼ / σⱼ`.
  /// Columns with σ = 0 get a zero `U` column (still a valid factorisation).
  public static func reference(_ a: Tensor) -> SVD {
    precondition(a.rank == 2, "SVD.reference: expects a matrix [m, n], got \(a.shape)")
    let (m, n) = (a.shape[0], a.shape[1])
    let transposed = m < n
    // Legend: w is rows × cols, column-major in `w[c][r]`; cols ≤ rows.
    let (rows, cols) = transposed ? (n, m) : (m, n)
    var w = [[Double]](repeating: [Double](repeating: 0, count: rows), count: cols)
    for i in 0..<m {
      for j in 0..<n {
        let v = Double(a.scalars[i * n + j])
        if transposed { w[i][j] = v } else { w[j][i] = v }
      }
    }
    var v = (0..<cols).map { c in (0..<cols).map { $0 == c ? 1.0 : 0.0 } }
    for _ in 0..<60 {
      var rotated = false
      for p in 0..<cols {
        for q in (p + 1)..<cols {
          var alpha = 0.0, beta = 0.0, gamma = 0.0
          for r in 0..<rows {
            alpha += w[p][r] * w[p][r]
            beta += w[q][r] * w[q][r]
            gamma += w[p][r] * w[q][r]
          }
          if abs(gamma) <= 1e-15 * (alpha * beta).squareRoot() { continue }
          rotated = true
          let zeta = (beta - alpha) / (2 * gamma)
          let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
          let c = 1 / (1 + t * t).squareRoot()
          let s = c * t
          for r in 0..<rows {
            let (x, y) = (w[p][r], w[q][r])
            w[p][r] = c * x - s * y
            w[q][r] = s * x + c * y
          }
          for r in 0..<cols {
            let (x, y) = (v[p][r], v[q][r])
            v[p][r] = c * x - s * y
            v[q][r] = s * x + c * y
          }
        }
      }
      if !rotated { break }
    }
    let sigma = w.map { col in col.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    let order = (0..<cols).sorted { sigma[$0] > sigma[$1] }
    let k = cols
    // Left singular vectors of the matrix Jacobi saw are w/σ, right ones are v's columns.
    var left = [Float](repeating: 0, count: rows * k)
    var right = [Float](repeating: 0, count: k * cols)
    for (j, c) in order.enumerated() {
      for r in 0..<rows where sigma[c] > 0 { left[r * k + j] = Float(w[c][r] / sigma[c]) }
      for r in 0..<cols { right[j * cols + r] = Float(v[c][r]) }
    }
    let s = order.map { Float(sigma[$0]) }
    if !transposed {
      return SVD(
        u: Tensor(shape: [rows, k], scalars: left), singularValues: s,
        vt: Tensor(shape: [k, cols], scalars: right))
    }
    // Aᵀ = L Σ R  ⇒  A = Rᵀ Σ Lᵀ: U = Rᵀ [m, k], Vᵀ = Lᵀ [k, n].
    var u = [Float](repeating: 0, count: m * k)
    for j in 0..<k { for i in 0..<m { u[i * k + j] = right[j * cols + i] } }
    var vt = [Float](repeating: 0, count: k * n)
    for r in 0..<rows { for j in 0..<k { vt[j * n + r] = left[r * k + j] } }
    return SVD(
      u: Tensor(shape: [m, k], scalars: u), singularValues: s, vt: Tensor(shape: [k, n], scalars: vt))
  }
}
