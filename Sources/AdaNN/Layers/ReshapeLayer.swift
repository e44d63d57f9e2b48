import AdaTensor

// PLACEHOLDER: replaced by the real implementation (forward + backward) before merge.
public struct ReshapeLayer: Layer {
  public var spec: ReshapeSpec
  public init(spec: ReshapeSpec) { self.spec = spec }
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] { fatalError("ReshapeLayer: not implemented yet") }
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { fatalError("ReshapeLayer: not implemented yet") }
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext) -> (Tensor, EmptyCache) { fatalError("ReshapeLayer: not implemented yet") }
  public func backward(_ gradOutput: Tensor, cache: EmptyCache, params: [Tensor], paramGrads: inout [Tensor]) -> [Tensor] { fatalError("ReshapeLayer: not implemented yet") }
}
