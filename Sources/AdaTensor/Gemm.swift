import COpenBLAS

/// Row-major single-precision GEMM on OpenBLAS:
/// `C[m, n] = alpha · op(A) · op(B) + beta · C`, with op = transpose when the flag is set.
///
/// - Parameters:
///   - a: `[m, k]`, or `[k, m]` when `transA`
///   - b: `[k, n]`, or `[n, k]` when `transB`
///   - c: `[m, n]`, read when `beta != 0`
public enum Gemm {
  @inlinable
  public static func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
    b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
  ) {
    if m == 0 || n == 0 { return }
    let lda = lda ?? (transA ? m : k)
    let ldb = ldb ?? (transB ? k : n)
    let ldc = ldc ?? n
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c,
      blasint(ldc))
  }

  /// Plain triple loop with the same contract as `sgemm`: the reference the fast path is tested against.
  public static func reference(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: [Float], b: [Float], beta: Float = 0, c: inout [Float]
  ) {
    for i in 0..<m {
      for j in 0..<n {
        var acc: Float = 0
        for p in 0..<k {
          let av = transA ? a[p * m + i] : a[i * k + p]
          let bv = transB ? b[j * k + p] : b[p * n + j]
          acc += av * bv
        }
        c[i * n + j] = alpha * acc + (beta == 0 ? 0 : beta * c[i * n + j])
      }
    }
  }
}

/// OpenBLAS runtime settings and identity, for reproducible measurements and manifests.
public enum BLAS {
  public static var threads: Int {
    get { Int(adablas_get_threads()) }
    set { adablas_set_threads(Int32(newValue)) }
  }
  /// The kernel family OpenBLAS picked for this CPU, e.g. "Cooperlake".
  public static var coreName: String { String(cString: adablas_core_name()) }
  public static var config: String { String(cString: adablas_config()) }
}
