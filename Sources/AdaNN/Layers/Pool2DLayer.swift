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
/// `forward`/`backward` are the fast kernels (channels innermost); `referenceForward` and
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

  // geometry: switch to ConvGeometry when merged
  /// Output size and top/left padding for one input size.
  struct Geometry {
    var outH: Int, outW: Int, padTop: Int, padLeft: Int

    init(spec: Pool2DSpec, h: Int, w: Int) {
      func axis(_ n: Int, _ k: Int, _ s: Int) -> (out: Int, padBefore: Int) {
        switch spec.padding {
        case .valid: return ((n - k) / s + 1, 0)
        case .same:
          let out = (n + s - 1) / s
          return (out, max((out - 1) * s + k - n, 0) / 2)
        }
      }
      (outH, padTop) = axis(h, spec.pool.h, spec.strides.h)
      (outW, padLeft) = axis(w, spec.pool.w, spec.strides.w)
    }
  }

  // MARK: Shape contract

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard inputs.count == 1 else {
      throw AdaError(.badShape, "pooling takes one input, found \(inputs.count)")
    }
    let s = inputs[0]
    guard s.count == 3 else {
      throw AdaError(.badShape, "pooling 2D needs [H, W, C] per example, found \(s)")
    }
    guard spec.pool.h > 0, spec.pool.w > 0, spec.strides.h > 0, spec.strides.w > 0 else {
      throw AdaError(
        .invalidValue, "pool size \(spec.pool) and strides \(spec.strides) must be positive")
    }
    if spec.padding == .valid && (s[0] < spec.pool.h || s[1] < spec.pool.w) {
      throw AdaError(
        .badShape, "valid pooling with window \(spec.pool) needs an input at least that large, found \(s)")
    }
    let g = Geometry(spec: spec, h: s[0], w: s[1])
    return [g.outH, g.outW, s[2]]
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
    // Legend: n batch, h/w input size, c channels, kh/kw window, sh/sw strides.
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (kh, kw, sh, sw) = (spec.pool.h, spec.pool.w, spec.strides.h, spec.strides.w)
    let g = Geometry(spec: spec, h: h, w: w)
    var y = Tensor(shape: [n, g.outH, g.outW, c])
    let isMax = spec.kind == .max
    let record = isMax && context.needsBackward
    var argmax = [Int32](repeating: 0, count: record ? y.count : 0)
    y.scalars.withUnsafeMutableBufferPointer { out in
      x.scalars.withUnsafeBufferPointer { src in
        argmax.withUnsafeMutableBufferPointer { arg in
          for b in 0..<n {
            for oh in 0..<g.outH {
              let h0 = oh * sh - g.padTop
              let (hs, he) = (max(h0, 0), min(h0 + kh, h))
              for ow in 0..<g.outW {
                let w0 = ow * sw - g.padLeft
                let (ws, we) = (max(w0, 0), min(w0 + kw, w))
                let o = ((b * g.outH + oh) * g.outW + ow) * c
                let first = (hs * w + ws) * c  // per-example offset of the window's first element
                for ch in 0..<c { out[o + ch] = src[b * h * w * c + first + ch] }
                if record { for ch in 0..<c { arg[o + ch] = Int32(first + ch) } }
                for ih in hs..<he {
                  for iw in ws..<we where ih != hs || iw != ws {
                    let local = (ih * w + iw) * c
                    let base = b * h * w * c + local
                    if isMax {
                      for ch in 0..<c where src[base + ch] > out[o + ch] {
                        out[o + ch] = src[base + ch]
                        if record { arg[o + ch] = Int32(local + ch) }
                      }
                    } else {
                      for ch in 0..<c { out[o + ch] += src[base + ch] }
                    }
                  }
                }
                if !isMax {
                  let inv = 1 / Float((he - hs) * (we - ws))
                  for ch in 0..<c { out[o + ch] *= inv }
                }
              }
            }
          }
        }
      }
    }
    let cache = Cache(
      inputShape: x.shape, argmax: argmax,
      inputsNeedGradient: context.needsBackward && context.inputsNeedGradient)
    return (y, cache)
  }

  // MARK: Backward

  /// Max: `dx[argmax] += dy`. Average: `dx[i] += dy / count` for every real `i` in the window.
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }
    let s = cache.inputShape
    let (n, h, w, c) = (s[0], s[1], s[2], s[3])
    let (kh, kw, sh, sw) = (spec.pool.h, spec.pool.w, spec.strides.h, spec.strides.w)
    let g = Geometry(spec: spec, h: h, w: w)
    precondition(
      gradOutput.shape == [n, g.outH, g.outW, c],
      "Pool2DLayer.backward: gradient \(gradOutput.shape) ≠ output [\(n), \(g.outH), \(g.outW), \(c)]")
    var dx = Tensor(shape: s)
    let perExample = h * w * c
    let perOutput = g.outH * g.outW * c
    dx.scalars.withUnsafeMutableBufferPointer { out in
      gradOutput.scalars.withUnsafeBufferPointer { dy in
        if spec.kind == .max {
          cache.argmax.withUnsafeBufferPointer { arg in
            for b in 0..<n {
              for e in 0..<perOutput {
                out[b * perExample + Int(arg[b * perOutput + e])] += dy[b * perOutput + e]
              }
            }
          }
          return
        }
        for b in 0..<n {
          for oh in 0..<g.outH {
            let h0 = oh * sh - g.padTop
            let (hs, he) = (max(h0, 0), min(h0 + kh, h))
            for ow in 0..<g.outW {
              let w0 = ow * sw - g.padLeft
              let (ws, we) = (max(w0, 0), min(w0 + kw, w))
              let o = ((b * g.outH + oh) * g.outW + ow) * c
              let inv = 1 / Float((he - hs) * (we - ws))
              for ih in hs..<he {
                for iw in ws..<we {
                  let base = b * perExample + (ih * w + iw) * c
                  for ch in 0..<c { out[base + ch] += dy[o + ch] * inv }
                }
              }
            }
          }
        }
      }
    }
    return [dx]
  }

  // MARK: Plain-loop reference

  /// The same pooling written as the definition: for each output element, loop over the window
  /// and skip positions outside the input. `x`: `[N, H, W, C]`.
  public func referenceForward(_ x: Tensor) -> Tensor {
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let g = Geometry(spec: spec, h: h, w: w)
    var y = Tensor(shape: [n, g.outH, g.outW, c])
    for b in 0..<n {
      for oh in 0..<g.outH {
        for ow in 0..<g.outW {
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
    let g = Geometry(spec: spec, h: h, w: w)
    var dx = Tensor(shape: x.shape)
    for b in 0..<n {
      for oh in 0..<g.outH {
        for ow in 0..<g.outW {
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
