import AdaTensor

/// Depthwise-separable convolution: a depthwise convolution (no bias, no activation) followed by
/// a 1×1 pointwise convolution with bias, then one fused activation.
///
/// Shapes: input `[N, H, W, C]`, `depthwiseKernel` `[kh, kw, C, M]`,
/// `pointwiseKernel` `[1, 1, C·M, F]`, `bias` `[F]`, intermediate `d` `[N, OH, OW, C·M]`,
/// output `[N, OH, OW, F]`. The steps reuse `DepthwiseKernels` and the GEMM of `LinearKernels`
/// (the pointwise step is a plain matrix product on `d` viewed as `[N·OH·OW, C·M]`).
///
/// Backward, in reverse order of forward:
///
///     dz                 = dy ⊙ f'(z)
///     dbias             += Σ_pixels dz
///     dpointwiseKernel  += dᵀ · dz
///     dd                 = dz · pointwiseKernelᵀ
///     ddepthwiseKernel, dx from DepthwiseKernels.backward(dd)   (dx skipped when not needed)
public struct SeparableConv2DLayer: Layer {
  public var spec: SeparableConv2DSpec
  public init(spec: SeparableConv2DSpec) { self.spec = spec }

  /// What backward needs from forward.
  public struct Cache: Sendable {
    /// The layer input `[N, H, W, C]`.
    var input: Tensor
    /// The depthwise result `[N, OH, OW, C·M]`.
    var depthwise: Tensor
    /// Pointwise result plus bias, before the activation, only when its backward needs it.
    var preActivation: Tensor?
    /// The layer output `[N, OH, OW, F]`.
    var output: Tensor
    var geometry: ConvGeometry?
    var inputsNeedGradient: Bool

    static let empty = Cache(
      input: Tensor(shape: [0]), depthwise: Tensor(shape: [0]), preActivation: nil,
      output: Tensor(shape: [0]), geometry: nil, inputsNeedGradient: false)
  }

  // MARK: Shapes and parameters

  /// `[[H, W, C]]` → `[OH, OW, F]`.
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard spec.filters > 0, spec.depthMultiplier > 0 else {
      throw AdaError(
        .invalidValue,
        "separable-conv2d filters and depth multiplier must be positive, found \(spec.filters) "
          + "and \(spec.depthMultiplier)")
    }
    let g = try ConvGeometry.checked(
      inputs, kernel: spec.kernel, strides: spec.strides, dilation: spec.dilation,
      padding: spec.padding, layer: "separable-conv2d")
    return [g.outputHeight, g.outputWidth, spec.filters]
  }

  /// `depthwiseKernel` `[kh, kw, C, M]`, `pointwiseKernel` `[1, 1, C·M, F]`, then `bias` `[F]`.
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] {
    let channels = inputs[0].last ?? 0
    let middle = channels * spec.depthMultiplier
    var specs = [
      ParameterSpec(
        name: "depthwiseKernel",
        shape: [spec.kernel.h, spec.kernel.w, channels, spec.depthMultiplier],
        initializer: .glorotUniform),
      ParameterSpec(
        name: "pointwiseKernel", shape: [1, 1, middle, spec.filters], initializer: .glorotUniform),
    ]
    if spec.useBias {
      specs.append(ParameterSpec(name: "bias", shape: [spec.filters], initializer: .zeros))
    }
    return specs
  }

  // MARK: Forward

  /// `[N, H, W, C]` → `[N, OH, OW, F]`.
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext)
    -> (Tensor, Cache)
  {
    let x = inputs[0]
    precondition(x.rank == 4, "SeparableConv2DLayer: input must be [N, H, W, C], got \(x.shape)")
    let g = ConvGeometry(
      inputHeight: x.shape[1], inputWidth: x.shape[2], kernel: spec.kernel, strides: spec.strides,
      dilation: spec.dilation, padding: spec.padding)
    let middle = x.shape[3] * spec.depthMultiplier
    precondition(
      params[0].shape == [spec.kernel.h, spec.kernel.w, x.shape[3], spec.depthMultiplier]
        && params[1].shape == [1, 1, middle, spec.filters],
      "SeparableConv2DLayer: kernels \(params[0].shape), \(params[1].shape) do not match input \(x.shape)")

    let d = DepthwiseKernels.forward(x, kernel: params[0], geometry: g)
    var y = LinearKernels.forward(
      d, kernel: params[1], inFeatures: middle,
      outputShape: [x.shape[0], g.outputHeight, g.outputWidth, spec.filters])
    let z = BiasActivation.forward(
      &y, bias: spec.useBias ? params[2] : nil, activation: spec.activation,
      keepPreActivation: context.needsBackward)

    guard context.needsBackward else { return (y, .empty) }
    return (
      y,
      Cache(
        input: x, depthwise: d, preActivation: z, output: y, geometry: g,
        inputsNeedGradient: context.inputsNeedGradient)
    )
  }

  // MARK: Backward

  /// Adds the gradients of both kernels (and the bias) into `paramGrads`; returns `[dx]`
  /// (`[]`-shaped when skipped).
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard let g = cache.geometry else {
      preconditionFailure("SeparableConv2DLayer.backward: forward ran without needsBackward")
    }
    precondition(gradOutput.shape == cache.output.shape, "SeparableConv2DLayer: dy \(gradOutput.shape)")
    let middle = cache.depthwise.shape[3]

    let dz = BiasActivation.backward(
      gradOutput, preActivation: cache.preActivation, output: cache.output,
      activation: spec.activation)
    if spec.useBias { BiasActivation.accumulateBiasGradient(dz, into: &paramGrads[2]) }
    LinearKernels.accumulateKernelGradient(
      input: cache.depthwise, gradient: dz, inFeatures: middle, into: &paramGrads[1])
    let dd = LinearKernels.inputGradient(
      dz, kernel: params[1], inFeatures: middle, inputShape: cache.depthwise.shape)
    let dx = DepthwiseKernels.backward(
      dd, input: cache.input, kernel: params[0], geometry: g, kernelGradient: &paramGrads[0],
      computeInputGradient: cache.inputsNeedGradient)
    return [dx ?? Tensor(shape: [])]
  }
}
