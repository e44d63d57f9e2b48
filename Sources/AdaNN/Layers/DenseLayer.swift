import AdaTensor

/// Fully connected layer on the last axis with optional bias and a fused activation:
/// `y = f(x · kernel + bias)`.
///
/// Shapes: input `[N, ..., in]` (rank ≥ 2; leading axes are flattened into rows),
/// `kernel` `[in, units]`, `bias` `[units]`, output `[N, ..., units]`. Softmax as the fused
/// activation works on the last axis.
///
/// Backward, in reverse order of forward:
///
///     dz       = dy ⊙ f'(z)
///     dbias   += Σ_rows dz
///     dkernel += xᵀ · dz
///     dx       = dz · kernelᵀ        (skipped when the input needs no gradient)
public struct DenseLayer: Layer {
  public var spec: DenseSpec
  public init(spec: DenseSpec) { self.spec = spec }

  /// What backward needs from forward.
  public struct Cache: Sendable {
    /// The layer input `[N, ..., in]`.
    var input: Tensor
    /// `x · kernel + bias`, only when the activation's backward needs it.
    var preActivation: Tensor?
    /// The layer output `[N, ..., units]`.
    var output: Tensor
    var inputsNeedGradient: Bool
    /// False for the cheap cache returned when no backward will run.
    var valid: Bool

    static let empty = Cache(
      input: Tensor(shape: [0]), preActivation: nil, output: Tensor(shape: [0]),
      inputsNeedGradient: false, valid: false)
  }

  // MARK: Shapes and parameters

  /// `[[..., in]]` → `[..., units]`.
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard spec.units > 0 else {
      throw AdaError(.invalidValue, "dense units must be positive, found \(spec.units)")
    }
    guard inputs.count == 1 else {
      throw AdaError(.badShape, "dense takes one input, found \(inputs.count)")
    }
    let shape = inputs[0]
    guard let features = shape.last else {
      throw AdaError(.badShape, "dense expects an input of shape [..., features], found a scalar")
    }
    guard shape.allSatisfy({ $0 > 0 }) else {
      throw AdaError(.badShape, "dense input \(shape) has an empty dimension (\(features) features)")
    }
    return shape.dropLast() + [spec.units]
  }

  /// `kernel` `[in, units]`, then `bias` `[units]` when `useBias`.
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] {
    let features = inputs[0].last ?? 0
    var specs = [
      ParameterSpec(name: "kernel", shape: [features, spec.units], initializer: .glorotUniform)
    ]
    if spec.useBias {
      specs.append(ParameterSpec(name: "bias", shape: [spec.units], initializer: .zeros))
    }
    return specs
  }

  // MARK: Forward

  /// `[N, ..., in]` → `[N, ..., units]`.
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext)
    -> (Tensor, Cache)
  {
    let x = inputs[0]
    precondition(x.rank >= 2, "DenseLayer: input must be [N, ..., features], got \(x.shape)")
    let features = x.shape[x.rank - 1]
    precondition(
      params[0].shape == [features, spec.units],
      "DenseLayer: kernel \(params[0].shape) does not match \(features) features and \(spec.units) units")

    var y = LinearKernels.forward(
      x, kernel: params[0], inFeatures: features, outputShape: x.shape.dropLast() + [spec.units])
    let z = BiasActivation.forward(
      &y, bias: spec.useBias ? params[1] : nil, activation: spec.activation,
      keepPreActivation: context.needsBackward)

    guard context.needsBackward else { return (y, .empty) }
    return (
      y,
      Cache(
        input: x, preActivation: z, output: y, inputsNeedGradient: context.inputsNeedGradient,
        valid: true)
    )
  }

  // MARK: Backward

  /// Adds `dkernel` (and `dbias`) into `paramGrads`; returns `[dx]` (`[]`-shaped when skipped).
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    precondition(cache.valid, "DenseLayer.backward: forward ran without needsBackward")
    precondition(gradOutput.shape == cache.output.shape, "DenseLayer: dy \(gradOutput.shape)")
    let features = cache.input.shape[cache.input.rank - 1]

    let dz = BiasActivation.backward(
      gradOutput, preActivation: cache.preActivation, output: cache.output,
      activation: spec.activation)
    if spec.useBias { BiasActivation.accumulateBiasGradient(dz, into: &paramGrads[1]) }
    LinearKernels.accumulateKernelGradient(
      input: cache.input, gradient: dz, inFeatures: features, into: &paramGrads[0])

    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }
    return [
      LinearKernels.inputGradient(
        dz, kernel: params[0], inFeatures: features, inputShape: cache.input.shape)
    ]
  }
}
