/// 2×2, stride-2 pooling over NHWC images whose windows all lie inside the image (no padding
/// reaches them), the shape of nearly every CNN's pooling layer: each output pixel reads two
/// adjacent pixels of two adjacent rows and combines them eight channels at a time.
///
/// The general window loop (`Pool2DLayer`) works out the valid window per pixel and copies
/// `C` channels at a time, which costs more than the arithmetic at small `C`. Results are the
/// same element for element: max keeps the running value unless a later window element is
/// `>=` it (as `Swift.max` does), average sums the four in row-major window order and
/// multiplies by ¼. `reference` is the plain-loop definition the tests hold this to.
///
/// Legend: `(oh, ow)` output pixel, `C` channels; the window of `(oh, ow)` is input rows
/// `2oh, 2oh + 1` and columns `2ow, 2ow + 1`.
public enum PoolKernels {
  public enum Kind: Sendable { case max, average }

  /// True when every 2×2, stride-2 window of `g` lies inside the input.
  public static func fitsFullWindows(_ g: ConvGeometry) -> Bool {
    g.kernelHeight == 2 && g.kernelWidth == 2 && g.strideHeight == 2 && g.strideWidth == 2
      && g.dilationHeight == 1 && g.dilationWidth == 1 && g.padTop == 0 && g.padLeft == 0
      && 2 * g.outputHeight <= g.inputHeight && 2 * g.outputWidth <= g.inputWidth
  }

  /// `y` `[N, OH, OW, C]` (every element written) from `x` `[N, H, W, C]`, split across
  /// workers by output rows when large.
  public static func pool2x2(
    _ kind: Kind, _ x: UnsafePointer<Float>, batch n: Int, channels c: Int, geometry g: ConvGeometry,
    into y: UnsafeMutablePointer<Float>
  ) {
    precondition(fitsFullWindows(g), "PoolKernels.pool2x2: \(g) is not 2×2 stride 2 without padding")
    let rows = n * g.outputHeight
    let rowStride = g.inputWidth * c
    Parallel.forEachChunk(of: rows, work: n * g.inputArea * c) { range in
      for row in range {
        let (image, oh) = row.quotientAndRemainder(dividingBy: g.outputHeight)
        let top = x + image * g.inputArea * c + 2 * oh * rowStride
        let out = y + row * g.outputWidth * c
        for ow in 0..<g.outputWidth {
          let p = top + 2 * ow * c
          if kind == .max {
            max4(p, p + c, p + rowStride, p + rowStride + c, out + ow * c, c)
          } else {
            average4(p, p + c, p + rowStride, p + rowStride + c, out + ow * c, c)
          }
        }
      }
    }
  }

  /// `o[ch] = max of a, b, d, e` (in that order, a later `>=` value replacing the running one).
  @inline(__always)
  static func max4(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: UnsafePointer<Float>,
    _ e: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ c: Int
  ) {
    var ch = 0
    while ch + 8 <= c {
      var m = load(a + ch)
      let (vb, vd, ve) = (load(b + ch), load(d + ch), load(e + ch))
      m.replace(with: vb, where: vb .>= m)
      m.replace(with: vd, where: vd .>= m)
      m.replace(with: ve, where: ve .>= m)
      UnsafeMutableRawPointer(o + ch).storeBytes(of: m, as: SIMD8<Float>.self)
      ch += 8
    }
    while ch < c {
      o[ch] = Swift.max(Swift.max(Swift.max(a[ch], b[ch]), d[ch]), e[ch])
      ch += 1
    }
  }

  /// `o[ch] = (a + b + d + e) · ¼`, summed left to right.
  @inline(__always)
  static func average4(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: UnsafePointer<Float>,
    _ e: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ c: Int
  ) {
    var ch = 0
    while ch + 8 <= c {
      let s = ((load(a + ch) + load(b + ch)) + load(d + ch)) + load(e + ch)
      UnsafeMutableRawPointer(o + ch).storeBytes(of: s * 0.25, as: SIMD8<Float>.self)
      ch += 8
    }
    while ch < c {
      o[ch] = (((a[ch] + b[ch]) + d[ch]) + e[ch]) * 0.25
      ch += 1
    }
  }

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
  }

  // MARK: Plain-loop reference

  /// `[N, H, W, C]` → `[N, OH, OW, C]` by the definition, one element at a time.
  public static func reference(_ kind: Kind, _ x: Tensor, geometry g: ConvGeometry) -> Tensor {
    let (n, c) = (x.shape[0], x.shape[3])
    var y = Tensor(shape: [n, g.outputHeight, g.outputWidth, c])
    for b in 0..<n {
      for oh in 0..<g.outputHeight {
        for ow in 0..<g.outputWidth {
          for ch in 0..<c {
            let window = [(0, 0), (0, 1), (1, 0), (1, 1)].map { x[b, 2 * oh + $0, 2 * ow + $1, ch] }
            y[b, oh, ow, ch] =
              kind == .max
              ? window.dropFirst().reduce(window[0]) { Swift.max($0, $1) }
              : window.reduce(0, +) / 4
          }
        }
      }
    }
    return y
  }
}
