import AdaTensor

/// Keras' `ReLU` layer: a rectifier with an optional cap, a leak and a threshold.
/// Shape-preserving, no parameters.
///
///     f(x) = maxValue                       if x ≥ maxValue
///     f(x) = x                              if threshold < x < maxValue
///     f(x) = negativeSlope · (x − threshold) otherwise
///
/// This is what Keras 3 computes (`keras/src/activations/activations.py`, `ReLU.static_call`:
/// `x · (x > threshold)`, clipped to `[0, max_value]`, minus `negative_slope · relu(threshold − x)`).
/// Keras' docstring writes `threshold ≤ x`; its code uses `>`, so at `x == threshold > 0` the
/// output is 0, and we follow the code. Keras' layer rejects negative `max_value`,
/// `negative_slope` and `threshold`; so do we.
///
/// The derivative is that of the branch `x` falls in (1 inside, 0 above the cap, `negativeSlope`
/// at or below the threshold), which gives `relu'(0) = 0` as JAX and TensorFlow do.
public struct ReLULayer: Layer {
  public var spec: ReLUSpec

  public init(spec: ReLUSpec) { self.spec = spec }

  public struct Cache: Sendable {
    /// The input, `[N, …]`; empty when backward is not needed.
    var x: Tensor
    var inputsNeedGradient: Bool
  }

  // MARK: Shape contract

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard inputs.count == 1 else {
      throw AdaError(.badShape, "relu takes one input, found \(inputs.count)")
    }
    if let m = spec.maxValue, !(m >= 0) {
      throw AdaError(.invalidValue, "relu max value must be ≥ 0, found \(m)")
    }
    guard spec.negativeSlope >= 0 else {
      throw AdaError(.invalidValue, "relu negative slope must be ≥ 0, found \(spec.negativeSlope)")
    }
    guard spec.threshold >= 0 else {
      throw AdaError(.invalidValue, "relu threshold must be ≥ 0, found \(spec.threshold)")
    }
    return inputs[0]
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { [] }

  /// `f(x)` for one element (see the type's formula).
  @inlinable
  public static func value(_ x: Float, maxValue: Float, slope: Float, threshold: Float) -> Float {
    if x >= maxValue { return maxValue }
    if x > threshold { return x }
    return slope * (x - threshold)
  }

  /// `f'(x)` for one element, the derivative of the branch `x` falls in.
  @inlinable
  public static func derivative(_ x: Float, maxValue: Float, slope: Float, threshold: Float)
    -> Float
  {
    if x >= maxValue { return 0 }
    if x > threshold { return 1 }
    return slope
  }

  /// True for the plain rectifier `max(x, 0)` (no cap, no leak, no threshold), which has a
  /// branch-free SIMD kernel.
  var isPlain: Bool { spec.maxValue == nil && spec.negativeSlope == 0 && spec.threshold == 0 }

  // MARK: Forward

  /// - Parameter inputs: one tensor `[N, …]`.
  /// - Returns: `f(x)`, same shape.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(inputs.count == 1, "ReLULayer: expects exactly one input")
    let x = inputs[0]
    let (cap, slope, t) = (spec.maxValue ?? .infinity, spec.negativeSlope, spec.threshold)
    let plain = isPlain
    let y = x.scalars.withUnsafeBufferPointer { xAll in
      Self.map(count: x.count) { range, out in
        let (xp, yp) = (xAll.baseAddress! + range.lowerBound, out + range.lowerBound)
        if plain {
          Self.rectify(xp, yp, count: range.count)
        } else {
          for i in 0..<range.count {
            yp[i] = Self.value(xp[i], maxValue: cap, slope: slope, threshold: t)
          }
        }
      }
    }
    let cache =
      context.needsBackward
      ? Cache(x: x, inputsNeedGradient: context.inputsNeedGradient)
      : Cache(x: Tensor(shape: [0]), inputsNeedGradient: false)
    return (Tensor(shape: x.shape, scalars: y), cache)
  }

  // MARK: Backward

  /// `dx = dy ⊙ f'(x)`.
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }
    precondition(
      gradOutput.shape == cache.x.shape,
      "ReLULayer.backward: gradient \(gradOutput.shape) ≠ input \(cache.x.shape)")
    let (cap, slope, t) = (spec.maxValue ?? .infinity, spec.negativeSlope, spec.threshold)
    let plain = isPlain
    let dx = cache.x.scalars.withUnsafeBufferPointer { xAll in
      gradOutput.scalars.withUnsafeBufferPointer { gAll in
        Self.map(count: gAll.count) { range, out in
          let start = range.lowerBound
          let (xp, gp, dp) = (xAll.baseAddress! + start, gAll.baseAddress! + start, out + start)
          if plain {
            Self.gate(gp, by: xp, dp, count: range.count)
          } else {
            for i in 0..<range.count {
              dp[i] = gp[i] * Self.derivative(xp[i], maxValue: cap, slope: slope, threshold: t)
            }
          }
        }
      }
    }
    return [Tensor(shape: gradOutput.shape, scalars: dx)]
  }

  // MARK: Kernels

  /// A new array of `count` elements, filled by `body(range, base)` over contiguous chunks
  /// split across the workers; `body` must write every element of its range.
  static func map(count: Int, _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { out, initialized in
      if count > 0 {
        Parallel.forEachChunk(of: count, work: count) { range in body(range, out.baseAddress!) }
      }
      initialized = count
    }
  }

  /// `y = max(x, 0)`, eight lanes at a time.
  static func rectify(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    let zero = SIMD8<Float>(repeating: 0)
    while i + 8 <= count {
      let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(y + i).storeBytes(
        of: v.replacing(with: zero, where: .!(v .> zero)), as: SIMD8<Float>.self)
      i += 8
    }
    while i < count {
      y[i] = x[i] > 0 ? x[i] : 0
      i += 1
    }
  }

  /// `dx = x > 0 ? dy : 0`, eight lanes at a time.
  static func gate(
    _ dy: UnsafePointer<Float>, by x: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
    count: Int
  ) {
    var i = 0
    let zero = SIMD8<Float>(repeating: 0)
    while i + 8 <= count {
      let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
      let g = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(dx + i).storeBytes(
        of: g.replacing(with: zero, where: .!(v .> zero)), as: SIMD8<Float>.self)
      i += 8
    }
    while i < count {
      dx[i] = x[i] > 0 ? dy[i] : 0
      i += 1
    }
  }
}
