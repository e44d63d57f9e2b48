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

  // MARK: Forward

  /// - Parameter inputs: one tensor `[N, …]`.
  /// - Returns: `f(x)`, same shape.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(inputs.count == 1, "ReLULayer: expects exactly one input")
    let x = inputs[0]
    let (cap, slope, t) = (spec.maxValue ?? .infinity, spec.negativeSlope, spec.threshold)
    var y = x
    y.scalars.withUnsafeMutableBufferPointer { p in
      for i in 0..<p.count {
        p[i] = Self.value(p[i], maxValue: cap, slope: slope, threshold: t)
      }
    }
    let cache =
      context.needsBackward
      ? Cache(x: x, inputsNeedGradient: context.inputsNeedGradient)
      : Cache(x: Tensor(shape: [0]), inputsNeedGradient: false)
    return (y, cache)
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
    var dx = gradOutput
    dx.scalars.withUnsafeMutableBufferPointer { g in
      cache.x.scalars.withUnsafeBufferPointer { x in
        for i in 0..<g.count {
          g[i] *= Self.derivative(x[i], maxValue: cap, slope: slope, threshold: t)
        }
      }
    }
    return [dx]
  }
}
