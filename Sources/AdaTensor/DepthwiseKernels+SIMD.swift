extension DepthwiseKernels {
  /// Forward for depth multiplier 1 (every MobileNet's depthwise conv), vectorised over the
  /// channels that NHWC keeps contiguous: for each output pixel, a block of 16 channels (then
  /// 8, then single ones) sums its valid taps in registers and is stored once, instead of
  /// reading and writing the output row once per tap as `forwardGeneral` does.
  ///
  /// Same arithmetic in the same order as `forwardGeneral` (`y = 0`, then `y += x · k` tap by
  /// tap, rows then columns; separate multiply and add, no fused multiply-add), so the two agree
  /// bit for bit. Shapes: `x` `[N, H, W, C]`, `kernel` `[kh, kw, C, 1]` → `[N, OH, OW, C]`.
  /// Legend: `(i, j)` tap, `(ih, iw)` input pixel, `ch` channel.
  static func forwardChannelVectors(_ x: Tensor, kernel: Tensor, geometry g: ConvGeometry) -> Tensor {
    let (n, c, m) = checkShapes(x, kernel, g)
    precondition(m == 1, "forwardChannelVectors: depth multiplier \(m), expected 1")
    let count = n * g.outputArea * c
    let scalars = [Float](unsafeUninitializedCapacity: count) { out, initialized in
      initialized = count
      guard count > 0 else { return }
      x.scalars.withUnsafeBufferPointer { xb in
        kernel.scalars.withUnsafeBufferPointer { kb in
          let (xp, kp, yp) = (xb.baseAddress!, kb.baseAddress!, out.baseAddress!)
          Parallel.forEachChunk(of: n, work: count * g.kernelArea) { images in
            for b in images {
              let image = xp + b * g.inputHeight * g.inputWidth * c
              for oh in 0..<g.outputHeight {
                let rows = g.validKernelRows(forOutputRow: oh)
                let ih0 = oh * g.strideHeight - g.padTop
                for ow in 0..<g.outputWidth {
                  let cols = g.validKernelColumns(forOutputColumn: ow)
                  let iw0 = ow * g.strideWidth - g.padLeft
                  let y = yp + ((b * g.outputHeight + oh) * g.outputWidth + ow) * c
                  /// Input pixel and kernel tap of (i, j), both at channel 0.
                  @inline(__always) func tap(_ i: Int, _ j: Int) -> (
                    UnsafePointer<Float>, UnsafePointer<Float>
                  ) {
                    let ih = ih0 + i * g.dilationHeight
                    let iw = iw0 + j * g.dilationWidth
                    return (image + (ih * g.inputWidth + iw) * c, kp + (i * g.kernelWidth + j) * c)
                  }
                  var ch = 0
                  while ch + 16 <= c {
                    var acc = SIMD16<Float>(repeating: 0)
                    for i in rows {
                      for j in cols {
                        let (xs, ks) = tap(i, j)
                        acc += load16(xs + ch) * load16(ks + ch)
                      }
                    }
                    UnsafeMutableRawPointer(y + ch).storeBytes(of: acc, as: SIMD16<Float>.self)
                    ch += 16
                  }
                  while ch + 8 <= c {
                    var acc = SIMD8<Float>(repeating: 0)
                    for i in rows {
                      for j in cols {
                        let (xs, ks) = tap(i, j)
                        acc += load8(xs + ch) * load8(ks + ch)
                      }
                    }
                    UnsafeMutableRawPointer(y + ch).storeBytes(of: acc, as: SIMD8<Float>.self)
                    ch += 8
                  }
                  while ch < c {
                    var acc: Float = 0
                    for i in rows {
                      for j in cols {
                        let (xs, ks) = tap(i, j)
                        acc += xs[ch] * ks[ch]
                      }
                    }
                    y[ch] = acc
                    ch += 1
                  }
                }
              }
            }
          }
        }
      }
    }
    return Tensor(shape: [n, g.outputHeight, g.outputWidth, c], scalars: scalars)
  }

  @inline(__always) private static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
  }

  @inline(__always) private static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
  }
}
