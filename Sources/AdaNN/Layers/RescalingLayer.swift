import AdaTensor

// PLACEHOLDER: replaced by the real implementation (forward + backward) before merge.
public struct RescalingLayer: Layer {
  public var spec: RescalingSpec
  public init(spec: RescalingSpec) { self.spec = spec }
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] { fatalError("RescalingLayer: not implemented yet") }
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { fatalError("RescalingLayer: not implemented yet") }
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext) -> (Tensor, EmptyCache) { fatalError("RescalingLayer: not implemented yet") }
  public func backward(_ gradOutput: Tensor, cache: EmptyCache, params: [Tensor], paramGrads: inout [Tensor]) -> [Tensor] { fatalError("RescalingLayer: not implemented yet") }
}
