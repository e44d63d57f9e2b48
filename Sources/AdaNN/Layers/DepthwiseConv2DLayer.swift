import AdaTensor

/// Depthwise 2-D convolution: each input channel is filtered on its own by `M` kernels
/// (the depth multiplier), with stride, `valid`/`same` padding, dilation, optional bias and a
/// fused activation.
///
/// Shapes: input `[N, H, W, C]`, `kernel` `[kh, kw, C, M]`, `bias` `[C·M]`, output
/// `[N, OH, OW, C·M]` (output channel `c·M + m` comes from input channel `c`).
/// The loops live in `DepthwiseKernels` (direct, not GEMM), shared with SeparableConv2D.
///
/// Backward, in reverse order of forward:
///
///     dz       = dy ⊙ f'(z)
///     dbias   += Σ_pixels dz
///     dkernel, dx from DepthwiseKernels.backward(dz)   (dx skipped when not needed)
public struct DepthwiseConv2DLayer: Layer {
  public var spec: DepthwiseConv2DSpec
  public init(spec: DepthwiseConv2DSpec) { self.spec = spec }

  /// What backward needs from forward.
  public struct Cache: Sendable {
    /// The layer input `[N, H, W, C]`.
    var input: Tensor
    /// Depthwise output plus bias, before the activation, only when its backward needs it.
    var preActivation: Tensor?
    /// The layer output `[N, OH, OW, C·M]`.
    var output: Tensor
    var geometry: ConvGeometry?
    var inputsNeedGradient: Bool

    static let empty = Cache(
      input: Tensor(shape: [0]), preActivation: nil, output: Tensor(shape: [0]), geometry: nil,
      inputsNeedGradient: false)
  }

  // MARK: Shapes and parameters

  /// `[[H, W, C]]` → `[OH, OW, C·M]`.
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard spec.depthMultiplier > 0 else {
      throw AdaError(
        .invalidValue, "depthwise-conv2d depth multiplier must be positive, found \(spec.depthMultiplier)")
    }
    let g = try geometry(for: inputs)
    return [g.outputHeight, g.outputWidth, inputs[0][2] * spec.depthMultiplier]
  }

  /// `kernel` `[kh, kw, C, M]`, then `bias` `[C·M]` when `useBias`.
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] {
    let channels = inputs[0].last ?? 0
    var specs = [
      ParameterSpec(
        name: "kernel", shape: [spec.kernel.h, spec.kernel.w, channels, spec.depthMultiplier],
        initializer: .glorotUniform)
    ]
    if spec.useBias {
      specs.append(
        ParameterSpec(name: "bias", shape: [channels * spec.depthMultiplier], initializer: .zeros))
    }
    return specs
  }

  func geometry(for inputs: [[Int]]) throws(AdaError) -> ConvGeometry {
    try ConvGeometry.checked(
      inputs, kernel: spec.kernel, strides: spec.strides, dilation: spec.dilation,
      padding: spec.padding, layer: "depthwise-conv2d")
  }

  // MARK: Forward

  /// `[N, H, W, C]` → `[N, OH, OW, C·M]`.
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext)
    -> (Tensor, Cache)
  {
    let x = inputs[0]
    precondition(x.rank == 4, "DepthwiseConv2DLayer: input must be [N, H, W, C], got \(x.shape)")
    let g = ConvGeometry(
      inputHeight: x.shape[1], inputWidth: x.shape[2], kernel: spec.kernel, strides: spec.strides,
      dilation: spec.dilation, padding: spec.padding)
    precondition(
      params[0].shape == [spec.kernel.h, spec.kernel.w, x.shape[3], spec.depthMultiplier],
      "DepthwiseConv2DLayer: kernel \(params[0].shape) does not match input \(x.shape)")

    var y = DepthwiseKernels.forward(x, kernel: params[0], geometry: g)
    let z = BiasActivation.forward(
      &y, bias: spec.useBias ? params[1] : nil, activation: spec.activation,
      keepPreActivation: context.needsBackward)

    guard context.needsBackward else { return (y, .empty) }
    return (
      y,
      Cache(
        input: x, preActivation: z, output: y, geometry: g,
        inputsNeedGradient: context.inputsNeedGradient)
    )
  }

  // MARK: Backward

  /// Adds `dkernel` (and `dbias`) into `paramGrads`; returns `[dx]` (`[]`-shaped when skipped).
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard let g = cache.geometry else {
      preconditionFailure("DepthwiseConv2DLayer.backward: forward ran without needsBackward")
    }
    precondition(gradOutput.shape == cache.output.shape, "DepthwiseConv2DLayer: dy \(gradOutput.shape)")

    let dz = BiasActivation.backward(
      gradOutput, preActivation: cache.preActivation, output: cache.output,
      activation: spec.activation)
    if spec.useBias { BiasActivation.accumulateBiasGradient(dz, into: &paramGrads[1]) }
    let dx = DepthwiseKernels.backward(
      dz, input: cache.input, kernel: params[0], geometry: g, kernelGradient: &paramGrads[0],
      computeInputGradient: cache.inputsNeedGradient)
    return [dx ?? Tensor(shape: [])]
  }
}
