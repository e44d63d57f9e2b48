/// GEMM split across `Parallel` workers, each calling single-threaded OpenBLAS.
///
/// OpenBLAS's own threading splits the tall, thin products of a convolution (`[N·OH·OW, K]` by
/// `[K, F]` with F = 32…64) less well than we can: at 12544×64×288 on this 2-core machine, one
/// BLAS thread gave 67 GFLOP/s, two BLAS threads 64–120 (depending on the machine's load), two
/// workers with one BLAS thread each on half the rows 136; at 9×32×50176 (a first conv's kernel
/// gradient) 38, 17–47 and 70. These helpers do that split, and fall back to one plain `sgemm`
/// when the product is small or only one worker is allowed.
///
/// - `sgemmSplittingRows`: each worker computes a contiguous block of rows of C. Every element
///   is computed as the unsplit call computes it.
/// - `sgemmSplittingDepth`: each worker multiplies one contiguous slice of the K (summed)
///   dimension; the partial products are added into C in slice order. For the weight gradient
///   `colsᵀ · dZ`, whose K is the batch × pixel count. The result depends on the number of
///   workers (summation order), never on timing.
/// - `parallelSgemm` splits the longer of m and k. (Splitting C's columns measured slower than
///   OpenBLAS's own two threads on the one shape that would use it, dense `dz · Wᵀ`.)
extension Gemm {
  /// Same contract as `sgemm`, split along the longer of m (rows) and k (depth) when that axis
  /// gives every worker `minimumSplitLength` entries; otherwise one call.
  ///
  /// With more than one `Parallel` worker, OpenBLAS is kept to the calling thread even for an
  /// unsplit product: an OpenBLAS thread woken by one multi-threaded call keeps spinning in
  /// `sched_yield` for a while afterwards, taking a core from our workers (13% of the samples
  /// of a training step when it was allowed). Its own threads are used when `Parallel.workers`
  /// is 1.
  public static func parallelSgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
    b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
  ) {
    if Parallel.workers > 1 && BLAS.threads != 1 {
      BLAS.withSingleThread {
        parallelSgemm(
          transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
          ldb: ldb, beta: beta, c: c, ldc: ldc)
      }
      return
    }
    if m >= k {
      sgemmSplittingRows(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
        ldb: ldb, beta: beta, c: c, ldc: ldc)
    } else {
      sgemmSplittingDepth(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
        ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
  }

  /// FLOPs (2·m·n·k) below which a product is not split. Task-local so tests can split tiny
  /// products: `Gemm.$minimumParallelFlops.withValue(0) { … }`.
  @TaskLocal public static var minimumParallelFlops = 4_000_000
  /// Fewest entries of the split axis per worker (fewer rows run faster on BLAS's own threads).
  @TaskLocal public static var minimumSplitLength = 256

  /// Same contract as `sgemm`, with C's rows split across workers.
  public static func sgemmSplittingRows(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
    b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
  ) {
    let lda = lda ?? (transA ? m : k)
    let ldc = ldc ?? n
    let chunks = chunkCount(rows: m, m: m, n: n, k: k)
    guard chunks > 1 else {
      sgemm(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
        ldb: ldb, beta: beta, c: c, ldc: ldc)
      return
    }
    BLAS.withSingleThread {
      Parallel.forEachChunk(of: m, chunks: chunks) { _, rows in
        // Row r of op(A) starts at a + r·lda, or at column r of the stored [k, m] matrix.
        let aRows = transA ? a + rows.lowerBound : a + rows.lowerBound * lda
        sgemm(
          transA: transA, transB: transB, m: rows.count, n: n, k: k, alpha: alpha, a: aRows,
          lda: lda, b: b, ldb: ldb, beta: beta, c: c + rows.lowerBound * ldc, ldc: ldc)
      }
    }
  }

  /// Same contract as `sgemm`, with the summed dimension K split across workers and the
  /// partial products added into C in slice order.
  public static func sgemmSplittingDepth(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
    b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
  ) {
    let lda = lda ?? (transA ? m : k)
    let ldb = ldb ?? (transB ? k : n)
    let ldc = ldc ?? n
    let chunks = chunkCount(rows: k, m: m, n: n, k: k)
    guard chunks > 1, m > 0, n > 0 else {
      sgemm(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
        ldb: ldb, beta: beta, c: c, ldc: ldc)
      return
    }
    // Slice 0 goes straight into C (with beta); slices 1… into scratch, added afterwards.
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: (chunks - 1) * m * n)
    defer { scratch.deallocate() }
    BLAS.withSingleThread {
      Parallel.forEachChunk(of: k, chunks: chunks) { chunk, depth in
        // Column p of op(A) is column p of A, or row p of the stored [k, m] matrix.
        let aSlice = transA ? a + depth.lowerBound * lda : a + depth.lowerBound
        // Row p of op(B) is row p of B, or column p of the stored [n, k] matrix.
        let bSlice = transB ? b + depth.lowerBound : b + depth.lowerBound * ldb
        let (out, outBeta, outLd) =
          chunk == 0 ? (c, beta, ldc) : (scratch + (chunk - 1) * m * n, Float(0), n)
        sgemm(
          transA: transA, transB: transB, m: m, n: n, k: depth.count, alpha: alpha, a: aSlice,
          lda: lda, b: bSlice, ldb: ldb, beta: outBeta, c: out, ldc: outLd)
      }
    }
    for chunk in 1..<chunks {
      let partial = scratch + (chunk - 1) * m * n
      for i in 0..<m {
        let row = c + i * ldc
        let add = partial + i * n
        for j in 0..<n { row[j] += add[j] }
      }
    }
  }

  /// Workers for a product whose split axis has `rows` entries: 1 when the product is small.
  static func chunkCount(rows: Int, m: Int, n: Int, k: Int) -> Int {
    if 2 * m * n * k < minimumParallelFlops { return 1 }
    let byLength = minimumSplitLength > 0 ? rows / minimumSplitLength : rows
    return max(1, min(Parallel.workers, byLength, rows))
  }
}

extension BLAS {
  /// Runs `body` with OpenBLAS limited to the calling thread, restoring the thread count after.
  /// Used around our own parallel splits, so BLAS threads do not compete with our workers.
  /// The thread count is process-wide: code that runs several models concurrently (parallel
  /// candidate evaluation) sets `BLAS.threads = 1` once up front, and this is then a no-op.
  public static func withSingleThread<T>(_ body: () throws -> T) rethrows -> T {
    let saved = threads
    if saved != 1 { threads = 1 }
    defer { if saved != 1 { threads = saved } }
    return try body()
  }
}
