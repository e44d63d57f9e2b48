import AdaTensor

/// Keras `GlobalAveragePooling2D` / `GlobalMaxPooling2D`: one value per channel over all of
/// H × W. `[N, H, W, C] → [N, C]`, or `[N, 1, 1, C]` with `keepDims`. No parameters.
///
/// Backward: average spreads `dy / (H·W)` over the plane; max sends `dy` to the position that
/// won (the first one, on ties), which forward records.
public struct GlobalPool2DLayer: Layer {
  public var spec: GlobalPool2DSpec

  public init(spec: GlobalPool2DSpec) { self.spec = spec }

  public struct Cache: Sendable {
    /// The input's shape `[N, H, W, C]`.
    var inputShape: [Int]
    /// Max only: for each `(n, c)`, the spatial index `h·W + w` of the maximum. `[N · C]`.
    var argmax: [Int32]
    var inputsNeedGradient: Bool
  }

  // MARK: Shape contract

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard inputs.count == 1 else {
      throw AdaError(.badShape, "global pooling takes one input, found \(inputs.count)")
    }
    let s = inputs[0]
    guard s.count == 3, s[0] > 0, s[1] > 0 else {
      throw AdaError(.badShape, "global pooling 2D needs [H, W, C] with H, W > 0, found \(s)")
    }
    return spec.keepDims ? [1, 1, s[2]] : [s[2]]
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { [] }

  // MARK: Forward

  /// - Parameter inputs: one tensor `[N, H, W, C]`.
  /// - Returns: `[N, C]` (or `[N, 1, 1, C]`): the mean or max of each channel plane.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(inputs.count == 1, "GlobalPool2DLayer: expects exactly one input")
    let x = inputs[0]
    precondition(x.rank == 4, "GlobalPool2DLayer: expects [N, H, W, C], found \(x.shape)")
    // Legend: n batch, p = H·W plane positions, c channels.
    let (n, p, c) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
    var y = Tensor(shape: spec.keepDims ? [n, 1, 1, c] : [n, c])
    let recordArgmax = spec.kind == .max && context.needsBackward
    var argmax = [Int32](repeating: 0, count: recordArgmax ? n * c : 0)
    y.scalars.withUnsafeMutableBufferPointer { out in
      x.scalars.withUnsafeBufferPointer { src in
        for b in 0..<n {
          let row = b * c
          switch spec.kind {
          case .average:
            var acc = [Float](repeating: 0, count: c)
            for q in 0..<p {
              let base = (b * p + q) * c
              for ch in 0..<c { acc[ch] += src[base + ch] }
            }
            let inv = 1 / Float(p)
            for ch in 0..<c { out[row + ch] = acc[ch] * inv }
          case .max:
            var best = [Int32](repeating: 0, count: c)
            for ch in 0..<c { out[row + ch] = src[b * p * c + ch] }
            for q in 1..<max(p, 1) {
              let base = (b * p + q) * c
              for ch in 0..<c where src[base + ch] > out[row + ch] {
                out[row + ch] = src[base + ch]
                best[ch] = Int32(q)
              }
            }
            if recordArgmax { for ch in 0..<c { argmax[row + ch] = best[ch] } }
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

  /// Average: `dx[n, h, w, c] = dy[n, c] / (H·W)`. Max: `dx = dy` at the recorded argmax, 0 elsewhere.
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }
    let s = cache.inputShape
    let (n, p, c) = (s[0], s[1] * s[2], s[3])
    precondition(gradOutput.count == n * c, "GlobalPool2DLayer.backward: gradient shape \(gradOutput.shape)")
    var dx = Tensor(shape: s)
    dx.scalars.withUnsafeMutableBufferPointer { out in
      gradOutput.scalars.withUnsafeBufferPointer { g in
        switch spec.kind {
        case .average:
          let inv = 1 / Float(p)
          for b in 0..<n {
            for q in 0..<p {
              let base = (b * p + q) * c
              for ch in 0..<c { out[base + ch] = g[b * c + ch] * inv }
            }
          }
        case .max:
          for b in 0..<n {
            for ch in 0..<c {
              let q = Int(cache.argmax[b * c + ch])
              out[(b * p + q) * c + ch] = g[b * c + ch]
            }
          }
        }
      }
    }
    return [dx]
  }
}
