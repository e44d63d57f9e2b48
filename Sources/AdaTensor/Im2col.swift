/// Unfolding NHWC image patches into GEMM rows (im2col) and folding them back (col2im), with
/// stride, zero padding and dilation from a `ConvGeometry`.
///
/// Layout of the columns matrix, `[N·OH·OW, kh·kw·C]`: row `(n, oh, ow)`, column `(i, j, c)` with
/// the channel fastest. A Keras kernel `[kh, kw, C, F]` is the same memory as `[kh·kw·C, F]`, so
/// `columns · kernel` is the convolution's NHWC output `[N, OH, OW, F]` with no transposes.
///
/// `col2im` is the adjoint (transpose) of `im2col`: it scatters each column entry back onto the
/// input pixel it was read from, summing overlaps and dropping the padding. It is what turns the
/// gradient of the columns into the gradient of the input.
///
/// Legend inside the kernels: `n` image, `(oh, ow)` output pixel, `(i, j)` kernel tap,
/// `(ih, iw)` input pixel, `C` channels, `K = kh·kw·C` row length.
public enum Im2col {
  // MARK: Fast kernels

  /// Writes every element of `columns` `[N·OH·OW, kh·kw·C]` from `input` `[N, H, W, C]`.
  public static func im2col(
    _ input: UnsafePointer<Float>, batch: Int, channels C: Int, geometry g: ConvGeometry,
    columns: UnsafeMutablePointer<Float>
  ) {
    let K = g.kernelArea * C
    let rowsPerImage = g.outputArea
    let contiguousTaps = g.dilationWidth == 1
    Parallel.forEachChunk(of: batch, work: batch * rowsPerImage * K) { images in
      for n in images {
        let image = input + n * g.inputArea * C
        for oh in 0..<g.outputHeight {
          let rows = g.validKernelRows(forOutputRow: oh)
          for ow in 0..<g.outputWidth {
            let row = columns + ((n * g.outputHeight + oh) * g.outputWidth + ow) * K
            let taps = g.validKernelColumns(forOutputColumn: ow)
            let iw0 = ow * g.strideWidth - g.padLeft
            for i in 0..<g.kernelHeight {
              let dst = row + i * g.kernelWidth * C
              guard rows.contains(i) else {
                dst.update(repeating: 0, count: g.kernelWidth * C)
                continue
              }
              let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight
              let src = image + ih * g.inputWidth * C
              dst.update(repeating: 0, count: taps.lowerBound * C)
              if contiguousTaps {
                // Neighbouring taps read neighbouring pixels: one copy for all of them.
                (dst + taps.lowerBound * C).update(
                  from: src + (iw0 + taps.lowerBound) * C, count: taps.count * C)
              } else {
                for j in taps {
                  let iw = iw0 + j * g.dilationWidth
                  (dst + j * C).update(from: src + iw * C, count: C)
                }
              }
              (dst + taps.upperBound * C).update(
                repeating: 0, count: (g.kernelWidth - taps.upperBound) * C)
            }
          }
        }
      }
    }
  }

  /// Adds every entry of `columns` `[N·OH·OW, kh·kw·C]` into the input pixel it came from in
  /// `image` `[N, H, W, C]`. Does not clear `image` first; padding entries are dropped.
  public static func col2im(
    _ columns: UnsafePointer<Float>, batch: Int, channels C: Int, geometry g: ConvGeometry,
    accumulatingInto image: UnsafeMutablePointer<Float>
  ) {
    let K = g.kernelArea * C
    let contiguousTaps = g.dilationWidth == 1
    Parallel.forEachChunk(of: batch, work: batch * g.outputArea * K) { images in
      for n in images {
        let dstImage = image + n * g.inputArea * C
        for oh in 0..<g.outputHeight {
          let rows = g.validKernelRows(forOutputRow: oh)
          for ow in 0..<g.outputWidth {
            let row = columns + ((n * g.outputHeight + oh) * g.outputWidth + ow) * K
            let taps = g.validKernelColumns(forOutputColumn: ow)
            let iw0 = ow * g.strideWidth - g.padLeft
            for i in rows {
              let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight
              let dst = dstImage + ih * g.inputWidth * C
              let src = row + i * g.kernelWidth * C
              if contiguousTaps {
                addInPlace(
                  dst + (iw0 + taps.lowerBound) * C, src + taps.lowerBound * C,
                  count: taps.count * C)
              } else {
                for j in taps {
                  addInPlace(dst + (iw0 + j * g.dilationWidth) * C, src + j * C, count: C)
                }
              }
            }
          }
        }
      }
    }
  }

  @inline(__always)
  static func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
    for t in 0..<count { dst[t] += src[t] }
  }

  // MARK: Tensor conveniences

  /// `[N, H, W, C]` → columns `[N·OH·OW, kh·kw·C]`.
  public static func im2col(_ x: Tensor, geometry g: ConvGeometry) -> Tensor {
    let (n, c) = checkedImage(x, g)
    let rows = n * g.outputArea
    let k = g.kernelArea * c
    let scalars = [Float](unsafeUninitializedCapacity: rows * k) { buffer, initialized in
      x.scalars.withUnsafeBufferPointer { xp in
        if rows * k > 0 {
          im2col(xp.baseAddress!, batch: n, channels: c, geometry: g, columns: buffer.baseAddress!)
        }
      }
      initialized = rows * k
    }
    return Tensor(shape: [rows, k], scalars: scalars)
  }

  /// Columns `[N·OH·OW, kh·kw·C]` → image gradient `[N, H, W, C]` (sum over every read).
  public static func col2im(_ columns: Tensor, batch n: Int, channels c: Int, geometry g: ConvGeometry)
    -> Tensor
  {
    precondition(
      columns.shape == [n * g.outputArea, g.kernelArea * c],
      "col2im: columns \(columns.shape) do not match batch \(n), \(c) channels, \(g)")
    var image = Tensor(shape: [n, g.inputHeight, g.inputWidth, c])
    if columns.count > 0 {
      columns.scalars.withUnsafeBufferPointer { cp in
        image.scalars.withUnsafeMutableBufferPointer { ip in
          col2im(cp.baseAddress!, batch: n, channels: c, geometry: g, accumulatingInto: ip.baseAddress!)
        }
      }
    }
    return image
  }

  // MARK: Plain-loop references

  /// One element at a time, straight from the definition: the reference `im2col` is tested against.
  public static func referenceIm2col(_ x: Tensor, geometry g: ConvGeometry) -> Tensor {
    let (n, c) = checkedImage(x, g)
    var out = Tensor(shape: [n * g.outputArea, g.kernelArea * c])
    g.forEachTap(batch: n) { b, oh, ow, i, j, ih, iw in
      for ch in 0..<c {
        out[(b * g.outputHeight + oh) * g.outputWidth + ow, (i * g.kernelWidth + j) * c + ch] =
          x[b, ih, iw, ch]
      }
    }
    return out
  }

  /// The reference `col2im`: scatter-add each column entry onto its input pixel.
  public static func referenceCol2im(
    _ columns: Tensor, batch n: Int, channels c: Int, geometry g: ConvGeometry
  ) -> Tensor {
    var x = Tensor(shape: [n, g.inputHeight, g.inputWidth, c])
    g.forEachTap(batch: n) { b, oh, ow, i, j, ih, iw in
      for ch in 0..<c {
        x[b, ih, iw, ch] +=
          columns[(b * g.outputHeight + oh) * g.outputWidth + ow, (i * g.kernelWidth + j) * c + ch]
      }
    }
    return x
  }

  /// (batch, channels) of an image that matches the geometry.
  static func checkedImage(_ x: Tensor, _ g: ConvGeometry) -> (Int, Int) {
    precondition(
      x.rank == 4 && x.shape[1] == g.inputHeight && x.shape[2] == g.inputWidth,
      "Im2col: input \(x.shape) is not [N, \(g.inputHeight), \(g.inputWidth), C]")
    return (x.shape[0], x.shape[3])
  }
}
