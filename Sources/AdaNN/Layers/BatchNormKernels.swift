import AdaTensor

/// The per-channel reductions and elementwise passes of batch normalisation, on a tensor viewed
/// as `[M, C]` rows (M = N·H·W for images), and the plain-loop references they are tested
/// against.
///
/// Reductions run over fixed blocks of `rowsPerBlock` rows: each block sums in Float (the
/// channel loop vectorises), blocks are combined in Double in block order. Blocks are spread
/// over the `Parallel` workers, but the block boundaries and the combining order do not depend
/// on the worker count or on timing, so results are bit-identical however the work is split.
enum BatchNormKernels {
  /// Rows per reduction block: small enough that Float sums stay accurate (~1e-6 relative)
  /// and the block stays in L1/L2 for the second pass, large enough to amortise the combine.
  static let rowsPerBlock = 256

  // MARK: Fast kernels

  /// Per-channel mean and biased variance of `x` `[M, C]`. Each block computes its mean and
  /// its sum of squared deviations from that mean (a second pass over the cached block);
  /// blocks are merged with Chan et al.'s pairwise update in Double.
  static func moments(_ x: UnsafePointer<Float>, rows m: Int, channels c: Int) -> (
    mean: [Float], variance: [Float]
  ) {
    let blocks = (m + rowsPerBlock - 1) / rowsPerBlock
    var blockMean = [Float](repeating: 0, count: blocks * c)
    var blockM2 = [Float](repeating: 0, count: blocks * c)
    blockMean.withUnsafeMutableBufferPointer { meanOut in
      blockM2.withUnsafeMutableBufferPointer { m2Out in
        Parallel.forEachChunk(of: blocks, work: m * c) { range in
          for block in range {
            let r0 = block * rowsPerBlock
            let rows = min(rowsPerBlock, m - r0)
            let mu = meanOut.baseAddress! + block * c
            let q = m2Out.baseAddress! + block * c
            let base = x + r0 * c
            for r in 0..<rows {
              let row = base + r * c
              for ch in 0..<c { mu[ch] += row[ch] }
            }
            let inv = 1 / Float(rows)
            for ch in 0..<c { mu[ch] *= inv }
            for r in 0..<rows {
              let row = base + r * c
              for ch in 0..<c {
                let d = row[ch] - mu[ch]
                q[ch] += d * d
              }
            }
          }
        }
      }
    }
    var mean = [Double](repeating: 0, count: c)
    var m2 = [Double](repeating: 0, count: c)
    var count = 0.0
    for block in 0..<blocks {
      let n = Double(min(rowsPerBlock, m - block * rowsPerBlock))
      let total = count + n
      for ch in 0..<c {
        let delta = Double(blockMean[block * c + ch]) - mean[ch]
        mean[ch] += delta * n / total
        m2[ch] += Double(blockM2[block * c + ch]) + delta * delta * count * n / total
      }
      count = total
    }
    return (mean.map { Float($0) }, m2.map { Float($0 / Double(m)) })
  }

  /// Per channel, `Σ g` and `Σ g·(x − mean)` over the rows of `g`, `x` `[M, C]`.
  static func gradientSums(
    _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, mean: [Float], rows m: Int,
    channels c: Int
  ) -> (sumG: [Double], sumGX: [Double]) {
    let blocks = (m + rowsPerBlock - 1) / rowsPerBlock
    var partial = [Float](repeating: 0, count: blocks * 2 * c)
    mean.withUnsafeBufferPointer { mu in
      partial.withUnsafeMutableBufferPointer { out in
        Parallel.forEachChunk(of: blocks, work: 2 * m * c) { range in
          for block in range {
            let r0 = block * rowsPerBlock
            let sg = out.baseAddress! + block * 2 * c
            let sgx = sg + c
            for r in r0..<min(r0 + rowsPerBlock, m) {
              let (gr, xr) = (g + r * c, x + r * c)
              for ch in 0..<c {
                sg[ch] += gr[ch]
                sgx[ch] += gr[ch] * (xr[ch] - mu[ch])
              }
            }
          }
        }
      }
    }
    var sumG = [Double](repeating: 0, count: c)
    var sumGX = [Double](repeating: 0, count: c)
    for block in 0..<blocks {
      for ch in 0..<c {
        sumG[ch] += Double(partial[block * 2 * c + ch])
        sumGX[ch] += Double(partial[block * 2 * c + c + ch])
      }
    }
    return (sumG, sumGX)
  }

  /// `out[r, ch] = x[r, ch] · scale[ch] + shift[ch]` (in place when `out == x`).
  ///
  /// The tensor is walked as one flat array in periods of `lcm(C, 8)` scalars, over which
  /// `scale`/`shift` repeated form whole `SIMD8` vectors: small or odd channel counts (8 at
  /// the first layer of a pruned CNN) then vectorise as well as large ones.
  static func affine(
    _ x: UnsafePointer<Float>, scale: [Float], shift: [Float], rows m: Int, channels c: Int,
    into out: UnsafeMutablePointer<Float>
  ) {
    var (p, q) = (c, 8)
    while q != 0 { (p, q) = (q, p % q) }
    let period = c / p * 8
    let a = (0..<period).map { scale[$0 % c] }
    let b = (0..<period).map { shift[$0 % c] }
    let total = m * c
    let periods = (total + period - 1) / period
    a.withUnsafeBufferPointer { ap in
      b.withUnsafeBufferPointer { bp in
        let (a, b) = (ap.baseAddress!, bp.baseAddress!)
        Parallel.forEachChunk(of: periods, work: total) { range in
          // One flat sweep over this chunk's periods; `j` is the position in the pattern.
          let start = range.lowerBound * period
          let (xs, ys) = (x + start, out + start)
          let count = min(range.upperBound * period, total) - start
          var (i, j) = (0, 0)
          while i + 8 <= count {
            let v = UnsafeRawPointer(xs + i).loadUnaligned(as: SIMD8<Float>.self)
            let sa = UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self)
            let sb = UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(ys + i).storeBytes(of: v * sa + sb, as: SIMD8<Float>.self)
            i += 8
            j = j + 8 == period ? 0 : j + 8
          }
          while i < count {
            ys[i] = xs[i] * a[j] + b[j]
            (i, j) = (i + 1, j + 1)
          }
        }
      }
    }
  }

  /// Training-mode input gradient, with `x̂ = (x − mean) · invStd` recomputed on the fly:
  /// `dx = k · (g − meanG − x̂ · meanGX)`, where `k = γ · invStd`; written to `out`.
  static func trainingInputGradient(
    _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, mean: [Float], invStd: [Float],
    k: [Float], meanG: [Float], meanGX: [Float], rows m: Int, channels c: Int,
    into out: UnsafeMutablePointer<Float>
  ) {
    // dx = g·k + (x − mean)·slope + offset, slope = −k·invStd·meanGX, offset = −k·meanG.
    let slope = (0..<c).map { -k[$0] * invStd[$0] * meanGX[$0] }
    let offset = (0..<c).map { -k[$0] * meanG[$0] }
    k.withUnsafeBufferPointer { kp in
      slope.withUnsafeBufferPointer { sp in
        offset.withUnsafeBufferPointer { op in
          mean.withUnsafeBufferPointer { mu in
            Parallel.forEachChunk(of: m, work: 2 * m * c) { rows in
              for r in rows {
                let (gr, xr, dr) = (g + r * c, x + r * c, out + r * c)
                for ch in 0..<c { dr[ch] = gr[ch] * kp[ch] + (xr[ch] - mu[ch]) * sp[ch] + op[ch] }
              }
            }
          }
        }
      }
    }
  }

  // MARK: Plain-loop references

  /// Per-channel mean and biased variance of `x` viewed as `[M, C]`, accumulated in Double
  /// (two passes: mean, then squared deviations). The reference `moments` is tested against.
  static func batchMoments(_ x: UnsafeBufferPointer<Float>, channels c: Int) -> ([Float], [Float]) {
    let m = x.count / c
    var sum = [Double](repeating: 0, count: c)
    for r in 0..<m { for ch in 0..<c { sum[ch] += Double(x[r * c + ch]) } }
    let mean = sum.map { $0 / Double(m) }
    var sq = [Double](repeating: 0, count: c)
    for r in 0..<m {
      for ch in 0..<c {
        let d = Double(x[r * c + ch]) - mean[ch]
        sq[ch] += d * d
      }
    }
    return (mean.map { Float($0) }, sq.map { Float($0 / Double(m)) })
  }

  /// `x[r, ch] · scale[ch] + shift[ch]` one element at a time: the reference `affine` is
  /// tested against (element for element, as both multiply then add in Float).
  static func referenceAffine(_ x: [Float], scale: [Float], shift: [Float], channels c: Int)
    -> [Float]
  {
    x.indices.map { x[$0] * scale[$0 % c] + shift[$0 % c] }
  }

  /// `Σ g` and `Σ g·(x − mean)` per channel in Double, one element at a time: the reference
  /// `gradientSums` is tested against.
  static func referenceGradientSums(_ g: [Float], _ x: [Float], mean: [Float], channels c: Int)
    -> (sumG: [Double], sumGX: [Double])
  {
    var sumG = [Double](repeating: 0, count: c)
    var sumGX = [Double](repeating: 0, count: c)
    for i in 0..<g.count {
      sumG[i % c] += Double(g[i])
      sumGX[i % c] += Double(g[i]) * (Double(x[i]) - Double(mean[i % c]))
    }
    return (sumG, sumGX)
  }
}
