import AdaTensor

/// `y = x · scale + offset` elementwise (Keras `Rescaling`), e.g.
/// `RescalingSpec(scale: 1 / 127.5, offset: -1)` maps pixels in [0, 255] to [−1, 1]. With
/// `channelScales` / `channelOffsets` the factors differ per channel (last axis, `[C]` each).
/// Shape-preserving (`[N, …, C] → [N, …, C]`), no parameters.
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
    for (key, list) in [("scale", spec.channelScales), ("offset", spec.channelOffsets)] {
      guard let list else { continue }
      guard list.count == inputs[0].last, list.allSatisfy(\.isFinite) else {
        throw AdaError(
          .badShape,
          "rescaling has \(list.count) per-channel \(key) factors for an input of shape \(inputs[0]); "
            + "expected one finite value per channel")
      }
    }
    return inputs[0]
  }

  /// Per-channel `(scale, offset)` for `c` channels.
  func factors(channels c: Int) -> (scale: [Float], offset: [Float]) {
    (
      spec.channelScales ?? [Float](repeating: spec.scale, count: c),
      spec.channelOffsets ?? [Float](repeating: spec.offset, count: c)
    )
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
    if spec.isPerChannel {
      let c = y.shape.last ?? 1
      let (s, o) = factors(channels: c)
      y.scalars.withUnsafeMutableBufferPointer { p in
        for i in 0..<p.count { p[i] = p[i] * s[i % c] + o[i % c] }
      }
    } else {
      let (s, o) = (spec.scale, spec.offset)
      y.scalars.withUnsafeMutableBufferPointer { p in
        for i in 0..<p.count { p[i] = p[i] * s + o }
      }
    }
    return (y, Cache(inputsNeedGradient: context.needsBackward && context.inputsNeedGradient))
  }

  // MARK: Backward

  /// `dx = dy · scale` (per channel: `dx = dy · scale_c`).
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }
    var dx = gradOutput
    if let s = spec.channelScales {
      dx.scalars.withUnsafeMutableBufferPointer { p in
        for i in 0..<p.count { p[i] *= s[i % s.count] }
      }
    } else {
      dx.scale(by: spec.scale)
    }
    return [dx]
  }
}
