import AdaTensor

/// 2-D convolution over NHWC images (groups = 1) with stride, `valid`/`same` padding, dilation,
/// optional bias and a fused activation: `y = f(conv(x, kernel) + bias)`.
///
/// Shapes: input `[N, H, W, C]`, `kernel` `[kh, kw, C, F]`, `bias` `[F]`, output `[N, OH, OW, F]`
/// with `OH, OW` from `ConvGeometry` (Keras padding rules).
///
/// Forward is im2col + one GEMM: columns `[N·OH·OW, kh·kw·C]` times the kernel viewed as
/// `[kh·kw·C, F]` is the NHWC output directly. A 1×1 stride-1 unpadded convolution skips im2col:
/// the image already is the `[N·H·W, C]` matrix. Backward reuses the columns saved by forward.
/// Batches whose columns would be large run the same algebra block by block instead (`Conv2DBlocks`: columns stay in cache and are rebuilt in backward
/// rather than kept). At inference, small reductions (`K = kh·kw·C`, e.g. a first convolution
/// over a grey image) run the direct kernel `DirectConv` instead, which also adds the bias and
/// a ReLU before storing. Training keeps im2col + GEMM: backward needs the columns anyway, and
/// at batch 64 the direct kernel is no faster than the GEMM on them.
///
///     dz      = dy ⊙ f'(z)                 (fused activation)
///     dbias  += Σ_rows dz
///     dkernel += columnsᵀ · dz
///     dx      = col2im(dz · kernelᵀ)       (skipped when the input needs no gradient)
public struct Conv2DLayer: Layer {
  public var spec: Conv2DSpec
  public init(spec: Conv2DSpec) { self.spec = spec }

  /// What backward needs from forward.
  public struct Cache: Sendable {
    /// im2col columns `[N·OH·OW, kh·kw·C]`; the input itself on the 1×1 path and on the
    /// blocked path (`blocked`), which rebuilds the columns block by block.
    var columns: Tensor
    /// True when forward ran `Conv2DBlocks` (backward then does too).
    var blocked = false
    /// `conv + bias` before the activation, only when the activation's backward needs it.
    var preActivation: Tensor?
    /// The layer output `[N, OH, OW, F]`.
    var output: Tensor
    var inputShape: [Int]
    var geometry: ConvGeometry?
    /// False when forward was told the input needs no gradient.
    var inputsNeedGradient: Bool

    static let empty = Cache(
      columns: Tensor(shape: [0]), preActivation: nil, output: Tensor(shape: [0]), inputShape: [],
      geometry: nil, inputsNeedGradient: false)

    init(
      columns: Tensor, blocked: Bool = false, preActivation: Tensor?, output: Tensor,
      inputShape: [Int], geometry: ConvGeometry?, inputsNeedGradient: Bool
    ) {
      self.columns = columns
      self.blocked = blocked
      self.preActivation = preActivation
      self.output = output
      self.inputShape = inputShape
      self.geometry = geometry
      self.inputsNeedGradient = inputsNeedGradient
    }
  }

  // MARK: Shapes and parameters

  /// `[[H, W, C]]` → `[OH, OW, F]`.
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard spec.filters > 0 else {
      throw AdaError(.invalidValue, "conv2d filters must be positive, found \(spec.filters)")
    }
    let g = try geometry(for: inputs)
    return [g.outputHeight, g.outputWidth, spec.filters]
  }

  /// `kernel` `[kh, kw, C, F]`, then `bias` `[F]` when `useBias`.
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] {
    let channels = inputs[0].last ?? 0
    var specs = [
      ParameterSpec(
        name: "kernel", shape: [spec.kernel.h, spec.kernel.w, channels, spec.filters],
        initializer: .glorotUniform)
    ]
    if spec.useBias {
      specs.append(ParameterSpec(name: "bias", shape: [spec.filters], initializer: .zeros))
    }
    return specs
  }

  func geometry(for inputs: [[Int]]) throws(AdaError) -> ConvGeometry {
    try ConvGeometry.checked(
      inputs, kernel: spec.kernel, strides: spec.strides, dilation: spec.dilation,
      padding: spec.padding, layer: "conv2d")
  }

  // MARK: Forward

  /// `[N, H, W, C]` → `[N, OH, OW, F]`.
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext)
    -> (Tensor, Cache)
  {
    let x = inputs[0]
    precondition(x.rank == 4, "Conv2DLayer: input must be [N, H, W, C], got \(x.shape)")
    let g = ConvGeometry(
      inputHeight: x.shape[1], inputWidth: x.shape[2], kernel: spec.kernel, strides: spec.strides,
      dilation: spec.dilation, padding: spec.padding)
    let (n, c, f) = (x.shape[0], x.shape[3], spec.filters)
    let kernel = params[0]
    precondition(
      kernel.shape == [spec.kernel.h, spec.kernel.w, c, f],
      "Conv2DLayer: kernel \(kernel.shape) does not match input channels \(c) and \(f) filters")

    let k = g.kernelArea * c
    if !context.needsBackward && !g.isPointwise
      && (Self.useDirectKernel ?? DirectConv.isFaster(channels: c, filters: f, geometry: g))
    {
      return (directForward(x, g, params), .empty)
    }
    let blocked =
      !g.isPointwise && n > 0 && Conv2DBlocks.applies(batch: n, pixels: g.outputArea, k: k)
    let columns = g.isPointwise || blocked ? x : Im2col.im2col(x, geometry: g)
    let outputShape = [n, g.outputHeight, g.outputWidth, f]
    var y: Tensor
    if blocked {
      let scalars = [Float](unsafeUninitializedCapacity: outputShape.elementCount) { out, done in
        x.scalars.withUnsafeBufferPointer { xp in
          kernel.scalars.withUnsafeBufferPointer { wp in
            Conv2DBlocks.forward(
              xp.baseAddress!, batch: n, channels: c, geometry: g, kernel: wp.baseAddress!,
              filters: f, into: out.baseAddress!)
          }
        }
        done = outputShape.elementCount
      }
      y = Tensor(shape: outputShape, scalars: scalars)
    } else {
      y = LinearKernels.forward(columns, kernel: kernel, inFeatures: k, outputShape: outputShape)
    }
    let z = BiasActivation.forward(
      &y, bias: spec.useBias ? params[1] : nil, activation: spec.activation,
      keepPreActivation: context.needsBackward)

    guard context.needsBackward else { return (y, .empty) }
    return (
      y,
      Cache(
        columns: columns, blocked: blocked, preActivation: z, output: y, inputShape: x.shape,
        geometry: g, inputsNeedGradient: context.inputsNeedGradient)
    )
  }

  /// Inference only: forces (true) or forbids (false) the direct kernel; nil chooses by shape
  /// (`DirectConv.isFaster`). Task-local so tests can compare the paths on any shape.
  @TaskLocal static var useDirectKernel: Bool? = nil

  /// The inference `DirectConv` path: the kernel adds the bias and applies a ReLU itself;
  /// other activations run in `BiasActivation` afterwards. `[N, H, W, C]` → `[N, OH, OW, F]`.
  private func directForward(_ x: Tensor, _ g: ConvGeometry, _ params: [Tensor]) -> Tensor {
    let fused = spec.activation == .relu || spec.activation == .linear
    var y = DirectConv.forward(
      x, kernel: params[0], bias: fused && spec.useBias ? params[1] : nil,
      relu: spec.activation == .relu, geometry: g)
    if !fused {
      _ = BiasActivation.forward(
        &y, bias: spec.useBias ? params[1] : nil, activation: spec.activation,
        keepPreActivation: false)
    }
    return y
  }

  // MARK: Backward

  /// Adds `dkernel` (and `dbias`) into `paramGrads`; returns `[dx]` (`[]`-shaped when skipped).
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard let g = cache.geometry else {
      preconditionFailure("Conv2DLayer.backward: forward ran without needsBackward")
    }
    precondition(gradOutput.shape == cache.output.shape, "Conv2DLayer: dy \(gradOutput.shape)")
    let (n, c) = (cache.inputShape[0], cache.inputShape[3])
    let k = g.kernelArea * c

    let dz = BiasActivation.backward(
      gradOutput, preActivation: cache.preActivation, output: cache.output,
      activation: spec.activation)
    if spec.useBias { BiasActivation.accumulateBiasGradient(dz, into: &paramGrads[1]) }
    if cache.blocked { return blockedBackward(dz, cache, g, params, &paramGrads) }
    LinearKernels.accumulateKernelGradient(
      input: cache.columns, gradient: dz, inFeatures: k, into: &paramGrads[0])

    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }
    let dColumns = LinearKernels.inputGradient(
      dz, kernel: params[0], inFeatures: k, inputShape: cache.columns.shape)
    if g.isPointwise { return [dColumns] }
    return [Im2col.col2im(dColumns, batch: n, channels: c, geometry: g)]
  }

  /// Backward of the blocked forward: kernel gradient and input gradient block by block.
  private func blockedBackward(
    _ dz: Tensor, _ cache: Cache, _ g: ConvGeometry, _ params: [Tensor],
    _ paramGrads: inout [Tensor]
  ) -> [Tensor] {
    let (n, c) = (cache.inputShape[0], cache.inputShape[3])
    let needDx = cache.inputsNeedGradient
    let dx = [Float](unsafeUninitializedCapacity: needDx ? cache.columns.count : 0) { out, done in
      cache.columns.scalars.withUnsafeBufferPointer { xp in
        dz.scalars.withUnsafeBufferPointer { gp in
          params[0].scalars.withUnsafeBufferPointer { wp in
            paramGrads[0].scalars.withUnsafeMutableBufferPointer { dw in
              Conv2DBlocks.backward(
                xp.baseAddress!, gradient: gp.baseAddress!, batch: n, channels: c, geometry: g,
                kernel: wp.baseAddress!, filters: spec.filters, kernelGradient: dw.baseAddress!,
                inputGradient: needDx ? out.baseAddress! : nil)
            }
          }
        }
      }
      done = needDx ? cache.columns.count : 0
    }
    return needDx ? [Tensor(shape: cache.inputShape, scalars: dx)] : [Tensor(shape: [])]
  }
}
