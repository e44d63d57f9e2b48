import AdaTensor

/// Keras `ZeroPadding2D`: zeros around the spatial axes of an NHWC tensor.
/// `[N, H, W, C] → [N, top + H + bottom, left + W + right, C]`. No parameters.
///
/// Backward crops the padded border away.
public struct ZeroPadding2DLayer: Layer {
  public var spec: ZeroPadding2DSpec

  public init(spec: ZeroPadding2DSpec) { self.spec = spec }

  public struct Cache: Sendable {
    /// The input's shape `[N, H, W, C]`.
    var inputShape: [Int]
    var inputsNeedGradient: Bool
  }

  // MARK: Shape contract

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard inputs.count == 1 else {
      throw AdaError(.badShape, "zero padding takes one input, found \(inputs.count)")
    }
    let s = inputs[0]
    guard s.count == 3 else {
      throw AdaError(.badShape, "zero padding 2D needs [H, W, C] per example, found \(s)")
    }
    let pads = [spec.top, spec.bottom, spec.left, spec.right]
    guard pads.allSatisfy({ $0 >= 0 }) else {
      throw AdaError(
        .invalidValue, "zero padding sizes (top, bottom, left, right) must be ≥ 0, found \(pads)")
    }
    return [s[0] + spec.top + spec.bottom, s[1] + spec.left + spec.right, s[2]]
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { [] }

  // MARK: Forward

  /// - Parameter inputs: one tensor `[N, H, W, C]`.
  /// - Returns: `[N, top + H + bottom, left + W + right, C]`, the input in the interior.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(inputs.count == 1, "ZeroPadding2DLayer: expects exactly one input")
    let x = inputs[0]
    precondition(x.rank == 4, "ZeroPadding2DLayer: expects [N, H, W, C], found \(x.shape)")
    // Legend: n batch, h/w input rows/cols, c channels, ph/pw padded rows/cols.
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (ph, pw) = (h + spec.top + spec.bottom, w + spec.left + spec.right)
    var y = Tensor(shape: [n, ph, pw, c])
    let rowLength = w * c
    y.scalars.withUnsafeMutableBufferPointer { out in
      x.scalars.withUnsafeBufferPointer { src in
        for b in 0..<n {
          for r in 0..<h {
            let from = (b * h + r) * rowLength
            let to = ((b * ph + r + spec.top) * pw + spec.left) * c
            for i in 0..<rowLength { out[to + i] = src[from + i] }
          }
        }
      }
    }
    let cache = Cache(
      inputShape: x.shape, inputsNeedGradient: context.needsBackward && context.inputsNeedGradient)
    return (y, cache)
  }

  // MARK: Backward

  /// `dx` is the interior of `dy` (the gradient at padded positions goes nowhere).
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }
    let (n, h, w, c) = (
      cache.inputShape[0], cache.inputShape[1], cache.inputShape[2], cache.inputShape[3]
    )
    let (ph, pw) = (h + spec.top + spec.bottom, w + spec.left + spec.right)
    precondition(
      gradOutput.shape == [n, ph, pw, c],
      "ZeroPadding2DLayer.backward: gradient \(gradOutput.shape) ≠ output [\(n), \(ph), \(pw), \(c)]")
    var dx = Tensor(shape: cache.inputShape)
    let rowLength = w * c
    dx.scalars.withUnsafeMutableBufferPointer { out in
      gradOutput.scalars.withUnsafeBufferPointer { g in
        for b in 0..<n {
          for r in 0..<h {
            let to = (b * h + r) * rowLength
            let from = ((b * ph + r + spec.top) * pw + spec.left) * c
            for i in 0..<rowLength { out[to + i] = g[from + i] }
          }
        }
      }
    }
    return [dx]
  }
}
