/// Depthwise 2-D convolution on NHWC images with a depth multiplier, as direct loops (a GEMM
/// would have one row per channel and waste its blocking): forward, backward, and plain-loop
/// references for both.
///
/// Shapes: input `[N, H, W, C]`, kernel `[kh, kw, C, M]` (Keras layout), output
/// `[N, OH, OW, C·M]` where output channel `c·M + m` is input channel `c` filtered by `kernel[.., c, m]`:
///
///     y[n, oh, ow, c·M + m] = Σ_{i,j} x[n, ih(oh, i), iw(ow, j), c] · k[i, j, c, m]
///
/// Bias and activation are not applied here (the layers add them in one shared pass).
/// Legend inside the kernels: `(i, j)` tap, `(ih, iw)` input pixel, `CM = C·M` output channels.
public enum DepthwiseKernels {
  /// `[N, H, W, C]` ⊛ `[kh, kw, C, M]` → `[N, OH, OW, C·M]`. Multiplier 1 runs
  /// `forwardChannelVectors` (SIMD over channels), others `forwardGeneral`; both give the same bits.
  public static func forward(_ x: Tensor, kernel: Tensor, geometry g: ConvGeometry) -> Tensor {
    let (_, _, m) = checkShapes(x, kernel, g)
    return m == 1
      ? forwardChannelVectors(x, kernel: kernel, geometry: g) : forwardGeneral(x, kernel: kernel, geometry: g)
  }

  /// The direct loop for any multiplier: for each output pixel and valid tap, adds `x · k` into
  /// the output pixel's channels. Public as the speed peer of the multiplier-1 path (AdaBench).
  public static func forwardGeneral(_ x: Tensor, kernel: Tensor, geometry g: ConvGeometry) -> Tensor {
    let (n, c, m) = checkShapes(x, kernel, g)
    let cm = c * m
    let count = n * g.outputArea * cm
    let scalars = [Float](unsafeUninitializedCapacity: count) { out, initialized in
      out.initialize(repeating: 0)
      initialized = count
      guard count > 0 else { return }
      x.scalars.withUnsafeBufferPointer { xb in
        kernel.scalars.withUnsafeBufferPointer { kb in
          let (xp, kp, yp) = (xb.baseAddress!, kb.baseAddress!, out.baseAddress!)
          Parallel.forEachChunk(of: n, work: count * g.kernelArea) { images in
            for b in images {
              for oh in 0..<g.outputHeight {
                let rows = g.validKernelRows(forOutputRow: oh)
                for ow in 0..<g.outputWidth {
                  let y = yp + ((b * g.outputHeight + oh) * g.outputWidth + ow) * cm
                  for i in rows {
                    let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight
                    for j in g.validKernelColumns(forOutputColumn: ow) {
                      let iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth
                      let xs = xp + ((b * g.inputHeight + ih) * g.inputWidth + iw) * c
                      let ks = kp + (i * g.kernelWidth + j) * cm
                      if m == 1 {
                        for ch in 0..<c { y[ch] += xs[ch] * ks[ch] }
                      } else {
                        for ch in 0..<c {
                          let v = xs[ch]
                          for q in 0..<m { y[ch * m + q] += v * ks[ch * m + q] }
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return Tensor(shape: [n, g.outputHeight, g.outputWidth, cm], scalars: scalars)
  }

  /// Given `dy` `[N, OH, OW, C·M]`, adds `dL/dkernel` into `kernelGradient` `[kh, kw, C, M]` and
  /// returns `dL/dx` `[N, H, W, C]` when `computeInputGradient`, else nil.
  ///
  /// Images are split across workers; each worker sums its kernel gradient privately and the
  /// partial sums are added at the end, so the result does not depend on timing.
  public static func backward(
    _ dy: Tensor, input x: Tensor, kernel: Tensor, geometry g: ConvGeometry,
    kernelGradient: inout Tensor, computeInputGradient: Bool
  ) -> Tensor? {
    let (n, c, m) = checkShapes(x, kernel, g)
    let cm = c * m
    precondition(dy.shape == [n, g.outputHeight, g.outputWidth, cm], "depthwise backward: dy \(dy.shape)")
    precondition(kernelGradient.shape == kernel.shape, "depthwise backward: kernel gradient shape")
    var dx = Tensor(shape: computeInputGradient ? x.shape : [0])
    let kernelCount = kernel.count
    let chunks = Parallel.chunkCount(for: n, work: dy.count * g.kernelArea)
    // Chunk 0 accumulates straight into kernelGradient; the others into their own slice here.
    var partials = [Float](repeating: 0, count: (chunks - 1) * kernelCount)
    guard dy.count > 0 else { return computeInputGradient ? dx : nil }
    dy.scalars.withUnsafeBufferPointer { gb in
      x.scalars.withUnsafeBufferPointer { xb in
        kernel.scalars.withUnsafeBufferPointer { kb in
          kernelGradient.scalars.withUnsafeMutableBufferPointer { dkb in
            partials.withUnsafeMutableBufferPointer { pb in
              dx.scalars.withUnsafeMutableBufferPointer { dxb in
                let (gp, xp, kp) = (gb.baseAddress!, xb.baseAddress!, kb.baseAddress!)
                let dxp = computeInputGradient ? dxb.baseAddress : nil
                Parallel.forEachChunk(of: n, chunks: chunks) { chunk, images in
                  let dk = chunk == 0 ? dkb.baseAddress! : pb.baseAddress! + (chunk - 1) * kernelCount
                  for b in images {
                    for oh in 0..<g.outputHeight {
                      let rows = g.validKernelRows(forOutputRow: oh)
                      for ow in 0..<g.outputWidth {
                        let gy = gp + ((b * g.outputHeight + oh) * g.outputWidth + ow) * cm
                        for i in rows {
                          let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight
                          for j in g.validKernelColumns(forOutputColumn: ow) {
                            let iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth
                            let pixel = ((b * g.inputHeight + ih) * g.inputWidth + iw) * c
                            let tap = (i * g.kernelWidth + j) * cm
                            let (xs, ks, dks) = (xp + pixel, kp + tap, dk + tap)
                            if m == 1 {
                              for ch in 0..<c { dks[ch] += xs[ch] * gy[ch] }
                              if let dxp {
                                let dxs = dxp + pixel
                                for ch in 0..<c { dxs[ch] += ks[ch] * gy[ch] }
                              }
                            } else {
                              for ch in 0..<c {
                                var acc: Float = 0
                                for q in 0..<m {
                                  dks[ch * m + q] += xs[ch] * gy[ch * m + q]
                                  acc += ks[ch * m + q] * gy[ch * m + q]
                                }
                                dxp?[pixel + ch] += acc
                              }
                            }
                          }
                        }
                      }
                    }
                  }
                }
                for p in 0..<(chunks - 1) {
                  let part = pb.baseAddress! + p * kernelCount
                  for t in 0..<kernelCount { dkb[t] += part[t] }
                }
              }
            }
          }
        }
      }
    }
    return computeInputGradient ? dx : nil
  }

  // MARK: Plain-loop references

  /// The definition, one multiply at a time: what `forward` is tested against.
  public static func referenceForward(_ x: Tensor, kernel: Tensor, geometry g: ConvGeometry) -> Tensor {
    let (n, c, m) = checkShapes(x, kernel, g)
    var y = Tensor(shape: [n, g.outputHeight, g.outputWidth, c * m])
    forEachTap(n, c, m, g) { b, oh, ow, ih, iw, i, j, ch, q in
      y[b, oh, ow, ch * m + q] += x[b, ih, iw, ch] * kernel[i, j, ch, q]
    }
    return y
  }

  /// Reference gradients `(dx [N, H, W, C], dkernel [kh, kw, C, M])` for `dy` `[N, OH, OW, C·M]`.
  public static func referenceBackward(
    _ dy: Tensor, input x: Tensor, kernel: Tensor, geometry g: ConvGeometry
  ) -> (dx: Tensor, dKernel: Tensor) {
    let (n, c, m) = checkShapes(x, kernel, g)
    var dx = Tensor(shape: x.shape)
    var dk = Tensor(shape: kernel.shape)
    forEachTap(n, c, m, g) { b, oh, ow, ih, iw, i, j, ch, q in
      let gy = dy[b, oh, ow, ch * m + q]
      dx[b, ih, iw, ch] += kernel[i, j, ch, q] * gy
      dk[i, j, ch, q] += x[b, ih, iw, ch] * gy
    }
    return (dx, dk)
  }

  /// Visits every (output pixel, tap, channel, multiplier) whose input pixel is inside the image.
  static func forEachTap(
    _ n: Int, _ c: Int, _ m: Int, _ g: ConvGeometry,
    _ body: (_ b: Int, _ oh: Int, _ ow: Int, _ ih: Int, _ iw: Int, _ i: Int, _ j: Int, _ ch: Int, _ q: Int)
      -> Void
  ) {
    g.forEachTap(batch: n) { b, oh, ow, i, j, ih, iw in
      for ch in 0..<c {
        for q in 0..<m { body(b, oh, ow, ih, iw, i, j, ch, q) }
      }
    }
  }

  /// (batch, channels, multiplier) after checking input and kernel agree with the geometry.
  static func checkShapes(_ x: Tensor, _ kernel: Tensor, _ g: ConvGeometry) -> (Int, Int, Int) {
    precondition(
      x.rank == 4 && x.shape[1] == g.inputHeight && x.shape[2] == g.inputWidth,
      "depthwise: input \(x.shape) is not [N, \(g.inputHeight), \(g.inputWidth), C]")
    precondition(
      kernel.shape.count == 4 && kernel.shape[0] == g.kernelHeight
        && kernel.shape[1] == g.kernelWidth && kernel.shape[2] == x.shape[3],
      "depthwise: kernel \(kernel.shape) is not [\(g.kernelHeight), \(g.kernelWidth), \(x.shape[3]), M]")
    return (x.shape[0], x.shape[3], kernel.shape[3])
  }
}
