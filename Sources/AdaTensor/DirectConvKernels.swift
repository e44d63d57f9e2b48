/// Direct 2-D convolution forward (NHWC, groups = 1) for small reductions `K = kh·kw·C`, with the
/// bias and an optional ReLU applied before the output is stored.
///
/// im2col + GEMM is a poor fit when K is tiny (a first convolution over a 1-channel image has
/// K = 9): the columns are nine copies of the input, and OpenBLAS spends more on packing and
/// edge handling than on arithmetic. Here a tile of output pixels keeps its filters'
/// accumulators in SIMD registers and, tap by tap, adds `x[ih, iw, c] · kernel[i, j, c, fb..<fb+B]`,
/// so nothing is unfolded and the output is written once. Interior pixels go in tiles of
/// 2 pixels × 16 filters or 4 pixels × 8 filters (eight independent 4-lane accumulators each,
/// sharing every kernel load: the release build targets baseline x86-64, SSE without FMA);
/// pixels whose window is clipped by the padding go one at a time. `Conv2DReference` is the
/// plain-loop definition the tests hold this to.
///
/// Legend: `n` image, `(oh, ow)` output pixel, `(i, j)` kernel tap, `(ih, iw)` input pixel,
/// `C` input channels, `F` filters, `Fp` = F rounded up to 8 (the padded kernel row),
/// `B` the width of one block of filters (16 or 8 lanes), `t` a tap `(i, j, c)` in kernel order.
///
///     y[n, oh, ow, f] = act(bias[f] + Σ_{i, j, c} x[n, ih, iw, c] · kernel[i, j, c, f])
public enum DirectConv {
  /// Whether the direct kernel beats im2col + GEMM for this shape on this kind of machine:
  /// small reductions only. Measured at batch 1 for 3×3 kernels (docs/benchmarks.md): K = 9
  /// 1.05× (32 filters) to 2.5× (8 filters) faster, K = 18 and 27 ~1.2×, K = 36 even, K = 72
  /// GEMM 1.5× faster.
  public static func isFaster(channels c: Int, filters f: Int, geometry g: ConvGeometry) -> Bool {
    g.kernelArea * c <= maximumReduction && f > 0 && g.hasOutput
  }

  /// Largest `K = kh·kw·C` for which `isFaster` holds.
  public static let maximumReduction = 32

  /// Multiply-adds (`N·OH·OW·K·F`) below which the work stays on the calling thread.
  /// Task-local so tests can split tiny convolutions across workers.
  @TaskLocal public static var minimumParallelMACs = 1 << 21

  /// `y` `[N, OH, OW, F]` (every element written) from `x` `[N, H, W, C]`, `kernel` `[kh, kw, C, F]`,
  /// `bias` `[F]` (nil for none), rectified when `relu`.
  public static func forward(
    _ x: UnsafePointer<Float>, batch n: Int, channels c: Int, geometry g: ConvGeometry,
    kernel: UnsafePointer<Float>, filters f: Int, bias: UnsafePointer<Float>?, relu: Bool,
    into y: UnsafeMutablePointer<Float>
  ) {
    let k = g.kernelArea * c
    let fp = (f + 7) / 8 * 8
    guard n > 0, f > 0, g.hasOutput else { return }
    // Kernel rows and bias padded with zeros to Fp lanes, so every block loads whole vectors.
    let w = UnsafeMutablePointer<Float>.allocate(capacity: k * fp + fp)
    defer { w.deallocate() }
    for r in 0..<k {
      (w + r * fp).update(from: kernel + r * f, count: f)
      (w + r * fp + f).update(repeating: 0, count: fp - f)
    }
    let b = w + k * fp
    if let bias { b.update(from: bias, count: f) } else { b.update(repeating: 0, count: f) }
    (b + f).update(repeating: 0, count: fp - f)

    let rows = n * g.outputHeight
    let macs = rows * g.outputWidth * k * f
    let chunks = macs < minimumParallelMACs ? 1 : Parallel.chunkCount(for: rows, work: macs)
    // Output columns whose every kernel column lies inside the image (a contiguous range).
    let full = (0..<g.outputWidth).filter {
      g.validKernelColumns(forOutputColumn: $0).count == g.kernelWidth
    }
    let interior = (full.first ?? 0)..<((full.last ?? -1) + 1)
    // Input offset of tap t = (i, j, ch) from the pixel's top-left input scalar.
    var offsets = [Int]()
    offsets.reserveCapacity(k)
    for i in 0..<g.kernelHeight {
      for j in 0..<g.kernelWidth {
        for ch in 0..<c {
          offsets.append((i * g.dilationHeight * g.inputWidth + j * g.dilationWidth) * c + ch)
        }
      }
    }
    offsets.withUnsafeBufferPointer { offsets in
      Parallel.forEachChunk(of: rows, chunks: chunks) { _, range in
        for row in range {
          let (image, oh) = row.quotientAndRemainder(dividingBy: g.outputHeight)
          let sweep = Sweep(g, c, oh, fp, interior, offsets.baseAddress!)
          let src = x + image * g.inputArea * c
          let dst = y + row * g.outputWidth * f
          var fb = 0
          while fb < f {
            let wide = fp - fb >= 16
            let width = wide ? 16 : 8
            let tile = wide ? 2 : 4
            let (wb, bb, valid) = (w + fb, b + fb, min(width, f - fb))
            var ow = 0
            while ow < g.outputWidth {
              let out = dst + ow * f + fb
              if ow >= interior.lowerBound && ow + tile <= interior.upperBound {
                if wide {
                  sweep.tile2x16(src, ow, wb, bb, relu, out, valid, f)
                } else {
                  sweep.tile4x8(src, ow, wb, bb, relu, out, valid, f)
                }
                ow += tile
              } else {
                for half in stride(from: 0, to: valid, by: 8) {
                  sweep.pixel8(src, ow, wb + half, bb + half, relu, out + half, min(8, valid - half))
                }
                ow += 1
              }
            }
            fb += width
          }
        }
      }
    }
  }

  /// The taps of one output row `oh`: which kernel rows fall inside the image, and how to walk
  /// the input and the padded kernel (row stride `fp`) for a pixel. With dilation 1 along the
  /// width, a kernel row's taps read `kw·C` consecutive input scalars, walked as one span.
  struct Sweep {
    let g: ConvGeometry
    let c: Int
    let fp: Int
    /// Valid kernel rows `i` for this output row, and input row of kernel row 0.
    let taps: Range<Int>
    let ih0: Int
    /// Input scalars between horizontally adjacent output pixels.
    let pixelStride: Int
    /// Output columns whose kernel columns all lie inside the image.
    let interior: Range<Int>

    /// Input offsets of the `K` taps from a pixel's top-left input scalar.
    let offsets: UnsafePointer<Int>
    /// True when every kernel row lies inside the image for this output row.
    let fullRows: Bool

    init(
      _ g: ConvGeometry, _ c: Int, _ oh: Int, _ fp: Int, _ interior: Range<Int>,
      _ offsets: UnsafePointer<Int>
    ) {
      self.g = g
      self.offsets = offsets
      self.interior = interior
      self.c = c
      self.fp = fp
      taps = g.validKernelRows(forOutputRow: oh)
      ih0 = oh * g.strideHeight - g.padTop
      pixelStride = g.strideWidth * c
      fullRows = taps.count == g.kernelHeight
    }

    /// Calls `body(x, t)` for every tap `t` of interior pixel `ow`, with `x` the input scalar
    /// of that tap (kernel row `t` of the padded kernel).
    @inline(__always)
    func forEachInteriorTap(
      _ x: UnsafePointer<Float>, _ ow: Int, _ body: (UnsafePointer<Float>, Int) -> Void
    ) {
      if fullRows {
        let base = x + (ih0 * g.inputWidth + ow * g.strideWidth - g.padLeft) * c
        for t in 0..<(g.kernelArea * c) { body(base + offsets[t], t) }
      } else {
        forEachRun(ow, 0..<g.kernelWidth) { xo, wo, span in
          let t0 = wo / fp
          for t in 0..<span { body(x + xo + t, t0 + t) }
        }
      }
    }

    /// Calls `body(xOffset, wOffset, span)` for each run of taps of pixel `ow` restricted to
    /// kernel columns `cols`: `span` input scalars from `x + xOffset` pair with kernel rows from
    /// `w + wOffset`, `fp` apart.
    @inline(__always)
    func forEachRun(_ ow: Int, _ cols: Range<Int>, _ body: (Int, Int, Int) -> Void) {
      let iw0 = ow * g.strideWidth - g.padLeft
      for i in taps {
        let ih = ih0 + i * g.dilationHeight
        let kernelRow = i * g.kernelWidth
        if g.dilationWidth == 1 {
          body(
            (ih * g.inputWidth + iw0 + cols.lowerBound) * c, (kernelRow + cols.lowerBound) * c * fp,
            cols.count * c)
        } else {
          for j in cols {
            body((ih * g.inputWidth + iw0 + j * g.dilationWidth) * c, (kernelRow + j) * c * fp, c)
          }
        }
      }
    }

    /// One pixel, 8 filters: edges and leftovers.
    @inline(__always)
    func pixel8(
      _ x: UnsafePointer<Float>, _ ow: Int, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
      _ relu: Bool, _ out: UnsafeMutablePointer<Float>, _ valid: Int
    ) {
      var a = load8(bias)
      let cols = interior.contains(ow) ? 0..<g.kernelWidth : g.validKernelColumns(forOutputColumn: ow)
      forEachRun(ow, cols) { xo, wo, span in
        let (xs, ws) = (x + xo, w + wo)
        for t in 0..<span { a += SIMD8(repeating: xs[t]) * load8(ws + t * fp) }
      }
      store(a, relu, out, valid)
    }

    /// Four adjacent interior pixels, 8 filters: eight independent accumulator vectors.
    @inline(__always)
    func tile4x8(
      _ x: UnsafePointer<Float>, _ ow: Int, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
      _ relu: Bool, _ out: UnsafeMutablePointer<Float>, _ valid: Int, _ f: Int
    ) {
      let b = load8(bias)
      var (a0, a1, a2, a3) = (b, b, b, b)
      let ps = pixelStride
      forEachInteriorTap(x, ow) { xs, t in
        let wv = load8(w + t * fp)
        a0 += SIMD8(repeating: xs[0]) * wv
        a1 += SIMD8(repeating: xs[ps]) * wv
        a2 += SIMD8(repeating: xs[2 * ps]) * wv
        a3 += SIMD8(repeating: xs[3 * ps]) * wv
      }
      store(a0, relu, out, valid)
      store(a1, relu, out + f, valid)
      store(a2, relu, out + 2 * f, valid)
      store(a3, relu, out + 3 * f, valid)
    }

    /// Two adjacent interior pixels, 16 filters.
    @inline(__always)
    func tile2x16(
      _ x: UnsafePointer<Float>, _ ow: Int, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
      _ relu: Bool, _ out: UnsafeMutablePointer<Float>, _ valid: Int, _ f: Int
    ) {
      let b = UnsafeRawPointer(bias).loadUnaligned(as: SIMD16<Float>.self)
      var (a0, a1) = (b, b)
      let ps = pixelStride
      forEachInteriorTap(x, ow) { xs, t in
        let wv = UnsafeRawPointer(w + t * fp).loadUnaligned(as: SIMD16<Float>.self)
        a0 += SIMD16(repeating: xs[0]) * wv
        a1 += SIMD16(repeating: xs[ps]) * wv
      }
      store(a0.lowHalf, relu, out, min(8, valid))
      store(a1.lowHalf, relu, out + f, min(8, valid))
      if valid > 8 {
        store(a0.highHalf, relu, out + 8, valid - 8)
        store(a1.highHalf, relu, out + f + 8, valid - 8)
      }
    }

    @inline(__always)
    func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
      UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Stores the first `valid` lanes of `a` (rectified when `relu`).
    @inline(__always)
    func store(_ a: SIMD8<Float>, _ relu: Bool, _ out: UnsafeMutablePointer<Float>, _ valid: Int) {
      var a = a
      if relu { a.replace(with: 0, where: .!(a .> 0)) }
      if valid == 8 {
        UnsafeMutableRawPointer(out).storeBytes(of: a, as: SIMD8<Float>.self)
      } else {
        for lane in 0..<valid { out[lane] = a[lane] }
      }
    }
  }

  /// `[N, H, W, C]` ⊛ `[kh, kw, C, F]` (+ `bias` `[F]`, then ReLU when `relu`) → `[N, OH, OW, F]`.
  public static func forward(
    _ x: Tensor, kernel: Tensor, bias: Tensor? = nil, relu: Bool = false, geometry g: ConvGeometry
  ) -> Tensor {
    let (n, c, f) = Conv2DReference.checkShapes(x, kernel, g)
    if let bias { precondition(bias.shape == [f], "DirectConv: bias \(bias.shape) is not [\(f)]") }
    let shape = [n, g.outputHeight, g.outputWidth, f]
    guard shape.elementCount > 0 else { return Tensor(shape: shape) }
    let scalars = [Float](unsafeUninitializedCapacity: shape.elementCount) { out, done in
      x.scalars.withUnsafeBufferPointer { xp in
        kernel.scalars.withUnsafeBufferPointer { kp in
          (bias?.scalars ?? []).withUnsafeBufferPointer { bp in
            forward(
              xp.baseAddress!, batch: n, channels: c, geometry: g, kernel: kp.baseAddress!,
              filters: f, bias: bias == nil ? nil : bp.baseAddress, relu: relu,
              into: out.baseAddress!)
          }
        }
      }
      done = shape.elementCount
    }
    return Tensor(shape: shape, scalars: scalars)
  }
}
