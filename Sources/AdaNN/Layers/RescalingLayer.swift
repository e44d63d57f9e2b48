import AdaTensor

/// `y = x · scale + offset` elementwise (Keras `Rescaling` with scalar scale and offset), e.g.
/// `RescalingSpec(scale: 1 / 127.5, offset: -1)` maps pixels in [0, 255] to [−1, 1].
/// Shape-preserving, no parameters.
public struct RescalingLayer: Layer {
  public var spec: RescalingSpec

  public init(spec: RescalingSpec) { self.spec = spec }

  public struct Cache: Sendable {
    var inputsNeedGradient: Bool
  }

  // MARK: Shape contract

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard inputs.count == 1 else {
      throw AdaError(.badShape, "rescaling takes one input, found \(inputs.count)")
    }
    guard spec.scale.isFinite, spec.offset.isFinite else {
      throw AdaError(
        .nonFinite, "rescaling scale and offset must be finite, found \(spec.scale), \(spec.offset)")
    }
    return inputs[0]
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { [] }

  // MARK: Forward

  /// - Parameter inputs: one tensor `[N, …]`.
  /// - Returns: `x · scale + offset`, same shape.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(inputs.count == 1, "RescalingLayer: expects exactly one input")
    var y = inputs[0]
    let (s, o) = (spec.scale, spec.offset)
    y.scalars.withUnsafeMutableBufferPointer { p in
      for i in 0..<p.count { p[i] = p[i] * s + o }
    }
    return (y, Cache(inputsNeedGradient: context.needsBackward && context.inputsNeedGradient))
  }

  // MARK: Backward

  /// `dx = dy · scale`.
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }
    var dx = gradOutput
    dx.scale(by: spec.scale)
    return [dx]
  }
}
