import AdaTensor

// PLACEHOLDER: replaced by the real implementation (forward + backward) before merge.
public struct ActivationLayer: Layer {
  public var activation: Activation
  public init(activation: Activation) { self.activation = activation }
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] { fatalError("ActivationLayer: not implemented yet") }
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { fatalError("ActivationLayer: not implemented yet") }
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext) -> (Tensor, EmptyCache) { fatalError("ActivationLayer: not implemented yet") }
  public func backward(_ gradOutput: Tensor, cache: EmptyCache, params: [Tensor], paramGrads: inout [Tensor]) -> [Tensor] { fatalError("ActivationLayer: not implemented yet") }
}
