import AdaTensor

// PLACEHOLDER: replaced by the real implementation (forward + backward) before merge.
public struct BatchNormLayer: Layer {
  public var spec: BatchNormSpec
  public init(spec: BatchNormSpec) { self.spec = spec }
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] { fatalError("BatchNormLayer: not implemented yet") }
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { fatalError("BatchNormLayer: not implemented yet") }
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext) -> (Tensor, EmptyCache) { fatalError("BatchNormLayer: not implemented yet") }
  public func backward(_ gradOutput: Tensor, cache: EmptyCache, params: [Tensor], paramGrads: inout [Tensor]) -> [Tensor] { fatalError("BatchNormLayer: not implemented yet") }
}
