import AdaTensor

/// Keras `MaxPooling2D` / `AveragePooling2D` on NHWC tensors.
/// `[N, H, W, C] → [N, OH, OW, C]`, window `spec.pool`, step `spec.strides`. No parameters.
///
/// Padding follows Keras/TensorFlow: `valid` uses only full windows; `same` gives
/// `OH = ceil(H / strideH)` and pads `padTotal = max((OH − 1)·stride + pool − H, 0)` rows,
/// `floor(padTotal / 2)` of them on top. Padded positions never take part: max ignores them,
/// average divides by the number of *real* elements in the window (so a 3×3 window at a
/// corner with one row and column of padding averages 4 values, not 9).
///
/// Backward: max routes `dy` to the input position that won (forward records it; the first
/// one in row-major window order on ties); average spreads `dy / count` over the window.
/// `forward`/`backward` are the fast kernels (channels innermost; 2×2 stride-2 windows that fit
/// the image go to `PoolKernels` when no argmax is recorded); `referenceForward` and
/// `referenceBackward` are plain loops over `Tensor` subscripts that the tests hold them to.
public struct Pool2DLayer: Layer {
  public var spec: Pool2DSpec

  public init(spec: Pool2DSpec) { self.spec = spec }

  public struct Cache: Sendable {
    /// The input's shape `[N, H, W, C]`.
    var inputShape: [Int]
    /// Max only: for each output element, the per-example offset `(h·W + w)·C + c` of the input
    /// that won. Same element order as the output; empty for average pooling.
    var argmax: [Int32]
    var inputsNeedGradient: Bool
  }

  /// The window sweep for an `h × w` input (Keras padding rules; see `ConvGeometry`).
  func geometry(h: Int, w: Int) -> ConvGeometry {
    ConvGeometry(
      inputHeight: h, inputWidth: w, kernel: spec.pool, strides: spec.strides,
      padding: spec.padding)
  }

  // MARK: Shape contract

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    let g = try ConvGeometry.checked(
      inputs, kernel: spec.pool, strides: spec.strides, padding: spec.padding,
      layer: spec.kind == .max ? "max-pool2d" : "avg-pool2d")
    return [g.outputHeight, g.outputWidth, inputs[0][2]]
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { [] }

  // MARK: Forward

  /// - Parameter inputs: one tensor `[N, H, W, C]`.
  /// - Returns: `[N, OH, OW, C]`.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(inputs.count == 1, "Pool2DLayer: expects exactly one input")
    let x = inputs[0]
    precondition(x.rank == 4, "Pool2DLayer: expects [N, H, W, C], found \(x.shape)")
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let g = geometry(h: h, w: w)
    precondition(
      h * w * c <= Int(Int32.max), "Pool2DLayer: \(x.shape) is too large for Int32 argmax offsets")
    let (perExample, perOutput) = (h * w * c, g.outputArea * c)
    let isMax = spec.kind == .max
    let record = isMax && context.needsBackward
    var argmax = [Int32](repeating: 0, count: record ? n * perOutput : 0)
    let y = [Float](unsafeUninitializedCapacity: n * perOutput) { out, initialized in
      x.scalars.withUnsafeBufferPointer { src in
        guard record || !PoolKernels.fitsFullWindows(g) || n * perOutput == 0 else {
          PoolKernels.pool2x2(
            isMax ? .max : .average, src.baseAddress!, batch: n, channels: c, geometry: g,
            into: out.baseAddress!)
          return
        }
        argmax.withUnsafeMutableBufferPointer { arg in
          Parallel.forEachChunk(of: n, work: x.count) { images in
            for b in images {
              let (input, output) = (src.baseAddress! + b * perExample, out.baseAddress! + b * perOutput)
              if isMax {
                Self.maxPool(input, output, record ? arg.baseAddress! + b * perOutput : nil, g, c)
              } else {
                Self.averagePool(input, output, g, c)
              }
            }
          }
        }
      }
      initialized = n * perOutput
    }
    let cache = Cache(
      inputShape: x.shape, argmax: argmax,
      inputsNeedGradient: context.needsBackward && context.inputsNeedGradient)
    return (Tensor(shape: [n, g.outputHeight, g.outputWidth, c], scalars: y), cache)
  }

  /// One image: `out` `[OH, OW, C]` = window maxima of `src` `[H, W, C]`; `arg` (when given)
  /// gets the offset in `src` of the first maximum of each window (row-major window order).
  private static func maxPool(
    _ src: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
    _ arg: UnsafeMutablePointer<Int32>?, _ g: ConvGeometry, _ c: Int
  ) {
    for oh in 0..<g.outputHeight {
      let rows = g.validKernelRows(forOutputRow: oh)
      let ih0 = oh * g.strideHeight - g.padTop
      for ow in 0..<g.outputWidth {
        let cols = g.validKernelColumns(forOutputColumn: ow)
        let iw0 = ow * g.strideWidth - g.padLeft
        let o = out + (oh * g.outputWidth + ow) * c
        let first = ((ih0 + rows.lowerBound) * g.inputWidth + iw0 + cols.lowerBound) * c
        o.update(from: src + first, count: c)
        if let arg {
          let a = arg + (oh * g.outputWidth + ow) * c
          for ch in 0..<c { a[ch] = Int32(truncatingIfNeeded: first + ch) }
        }
        for i in rows {
          for j in cols where i != rows.lowerBound || j != cols.lowerBound {
            let local = ((ih0 + i) * g.inputWidth + iw0 + j) * c
            let s = src + local
            if let arg {
              maxStep(o, arg + (oh * g.outputWidth + ow) * c, src + local, offset: local, c)
            } else {
              for ch in 0..<c { o[ch] = Swift.max(o[ch], s[ch]) }
            }
          }
        }
      }
    }
  }

  /// `o[ch], a[ch] ← s[ch], offset + ch` where `s[ch] > o[ch]`, eight channels at a time
  /// (explicit SIMD: the compiler keeps the scalar select as a branch).
  @inline(__always)
  private static func maxStep(
    _ o: UnsafeMutablePointer<Float>, _ a: UnsafeMutablePointer<Int32>,
    _ s: UnsafePointer<Float>, offset: Int, _ c: Int
  ) {
    let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
    var ch = 0
    while ch + 8 <= c {
      let sv = UnsafeRawPointer(s + ch).loadUnaligned(as: SIMD8<Float>.self)
      let ov = UnsafeRawPointer(o + ch).loadUnaligned(as: SIMD8<Float>.self)
      let av = UnsafeRawPointer(a + ch).loadUnaligned(as: SIMD8<Int32>.self)
      let better = sv .> ov
      let index = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: offset + ch)) &+ lanes
      UnsafeMutableRawPointer(o + ch).storeBytes(
        of: ov.replacing(with: sv, where: better), as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(a + ch).storeBytes(
        of: av.replacing(with: index, where: better), as: SIMD8<Int32>.self)
      ch += 8
    }
    while ch < c {
      if s[ch] > o[ch] {
        o[ch] = s[ch]
        a[ch] = Int32(truncatingIfNeeded: offset + ch)
      }
      ch += 1
    }
  }

  /// One image: `out` `[OH, OW, C]` = means of the real (unpadded) elements of each window.
  private static func averagePool(
    _ src: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ g: ConvGeometry, _ c: Int
  ) {
    for oh in 0..<g.outputHeight {
      let rows = g.validKernelRows(forOutputRow: oh)
      let ih0 = oh * g.strideHeight - g.padTop
      for ow in 0..<g.outputWidth {
        let cols = g.validKernelColumns(forOutputColumn: ow)
        let iw0 = ow * g.strideWidth - g.padLeft
        let o = out + (oh * g.outputWidth + ow) * c
        o.update(repeating: 0, count: c)
        for i in rows {
          for j in cols {
            let s = src + ((ih0 + i) * g.inputWidth + iw0 + j) * c
            for ch in 0..<c { o[ch] += s[ch] }
          }
        }
        let inv = 1 / Float(rows.count * cols.count)
        for ch in 0..<c { o[ch] *= inv }
      }
    }
  }

  // MARK: Backward

  /// Max: `dx[argmax] += dy`. Average: `dx[i] += dy / count` for every real `i` in the window.
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }
    let s = cache.inputShape
    let (n, h, w, c) = (s[0], s[1], s[2], s[3])
    let g = geometry(h: h, w: w)
    precondition(
      gradOutput.shape == [n, g.outputHeight, g.outputWidth, c],
      "Pool2DLayer.backward: gradient \(gradOutput.shape) ≠ output "
        + "[\(n), \(g.outputHeight), \(g.outputWidth), \(c)]")
    let (perExample, perOutput) = (h * w * c, g.outputArea * c)
    let isMax = spec.kind == .max
    let dx = [Float](unsafeUninitializedCapacity: n * perExample) { out, initialized in
      gradOutput.scalars.withUnsafeBufferPointer { dyAll in
        cache.argmax.withUnsafeBufferPointer { argAll in
          Parallel.forEachChunk(of: n, work: n * perExample) { images in
            for b in images {
              let dst = out.baseAddress! + b * perExample
              let dy = dyAll.baseAddress! + b * perOutput
              dst.update(repeating: 0, count: perExample)
              if isMax {
                let arg = argAll.baseAddress! + b * perOutput
                for e in 0..<perOutput { dst[Int(arg[e])] += dy[e] }
              } else {
                Self.averagePoolBackward(dy, dst, g, c)
              }
            }
          }
        }
      }
      initialized = n * perExample
    }
    return [Tensor(shape: s, scalars: dx)]
  }

  /// One image: spreads each `dy` `[OH, OW, C]` element evenly over its window's real elements
  /// of `dx` `[H, W, C]`.
  private static func averagePoolBackward(
    _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ g: ConvGeometry, _ c: Int
  ) {
    for oh in 0..<g.outputHeight {
      let rows = g.validKernelRows(forOutputRow: oh)
      let ih0 = oh * g.strideHeight - g.padTop
      for ow in 0..<g.outputWidth {
        let cols = g.validKernelColumns(forOutputColumn: ow)
        let iw0 = ow * g.strideWidth - g.padLeft
        let d = dy + (oh * g.outputWidth + ow) * c
        let inv = 1 / Float(rows.count * cols.count)
        for i in rows {
          for j in cols {
            let t = dx + ((ih0 + i) * g.inputWidth + iw0 + j) * c
            for ch in 0..<c { t[ch] += d[ch] * inv }
          }
        }
      }
    }
  }

  // MARK: Plain-loop reference

  /// The same pooling written as the definition: for each output element, loop over the window
  /// and skip positions outside the input. `x`: `[N, H, W, C]`.
  public func referenceForward(_ x: Tensor) -> Tensor {
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let g = geometry(h: h, w: w)
    var y = Tensor(shape: [n, g.outputHeight, g.outputWidth, c])
    for b in 0..<n {
      for oh in 0..<g.outputHeight {
        for ow in 0..<g.outputWidth {
          for ch in 0..<c {
            var acc: Float = spec.kind == .max ? -.infinity : 0
            var count = 0
            for i in 0..<spec.pool.h {
              for j in 0..<spec.pool.w {
                let ih = oh * spec.strides.h - g.padTop + i
                let iw = ow * spec.strides.w - g.padLeft + j
                guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
                let v = x[b, ih, iw, ch]
                acc = spec.kind == .max ? max(acc, v) : acc + v
                count += 1
              }
            }
            y[b, oh, ow, ch] = spec.kind == .max ? acc : acc / Float(count)
          }
        }
      }
    }
    return y
  }

  /// Backward by the definition, for an input `x` `[N, H, W, C]` and `dy` `[N, OH, OW, C]`
  /// (max: `dy` to the first maximum of each window; average: `dy / count` to each real element).
  public func referenceBackward(_ x: Tensor, _ dy: Tensor) -> Tensor {
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let g = geometry(h: h, w: w)
    var dx = Tensor(shape: x.shape)
    for b in 0..<n {
      for oh in 0..<g.outputHeight {
        for ow in 0..<g.outputWidth {
          for ch in 0..<c {
            var window: [(Int, Int)] = []
            for i in 0..<spec.pool.h {
              for j in 0..<spec.pool.w {
                let ih = oh * spec.strides.h - g.padTop + i
                let iw = ow * spec.strides.w - g.padLeft + j
                if ih >= 0, ih < h, iw >= 0, iw < w { window.append((ih, iw)) }
              }
            }
            if spec.kind == .max {
              var best = window[0]
              for p in window.dropFirst() where x[b, p.0, p.1, ch] > x[b, best.0, best.1, ch] {
                best = p
              }
              dx[b, best.0, best.1, ch] += dy[b, oh, ow, ch]
            } else {
              for p in window { dx[b, p.0, p.1, ch] += dy[b, oh, ow, ch] / Float(window.count) }
            }
          }
        }
      }
    }
    return dx
  }
}
