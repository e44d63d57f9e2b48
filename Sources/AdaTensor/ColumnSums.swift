/// Per-column sums of a row-major `[M, C]` matrix — the bias gradient `Σ_rows dz` of every
/// layer with a bias, and the shape of every per-channel reduction over an NHWC batch.
///
/// Rows are summed in fixed blocks of `rowsPerBlock` in Float (the column loop vectorises),
/// and the block sums are added in Double in block order. Blocks are spread over the
/// `Parallel` workers, but the block boundaries and the order of the final additions do not
/// depend on the worker count or on timing: the result is bit-identical however it is split.
///
///     ColumnSums.sums(x, rows: 3, columns: 2)   // x = [1, 2, 3, 4, 5, 6] → [9, 12]
public enum ColumnSums {
  /// Rows per block: Float sums of ≤ 256 terms stay within ~1e-6 relative of exact.
  public static let rowsPerBlock = 256

  /// `Σ_r x[r, c]` for each column `c`, in Double.
  public static func sums(_ x: UnsafePointer<Float>, rows m: Int, columns c: Int) -> [Double] {
    let blocks = (m + rowsPerBlock - 1) / rowsPerBlock
    var partial = [Float](repeating: 0, count: blocks * c)
    partial.withUnsafeMutableBufferPointer { out in
      Parallel.forEachChunk(of: blocks, work: m * c) { range in
        for block in range {
          let s = out.baseAddress! + block * c
          for r in (block * rowsPerBlock)..<min((block + 1) * rowsPerBlock, m) {
            let row = x + r * c
            for j in 0..<c { s[j] += row[j] }
          }
        }
      }
    }
    var total = [Double](repeating: 0, count: c)
    for block in 0..<blocks {
      for j in 0..<c { total[j] += Double(partial[block * c + j]) }
    }
    return total
  }

  /// The plain loop `sums` is tested against: every element added in Double, row by row.
  public static func reference(_ x: [Float], rows m: Int, columns c: Int) -> [Double] {
    var total = [Double](repeating: 0, count: c)
    for r in 0..<m {
      for j in 0..<c { total[j] += Double(x[r * c + j]) }
    }
    return total
  }
}
