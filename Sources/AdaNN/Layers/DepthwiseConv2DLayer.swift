import AdaTensor

// PLACEHOLDER: replaced by the real implementation (forward + backward) before merge.
public struct DepthwiseConv2DLayer: Layer {
  public var spec: DepthwiseConv2DSpec
  public init(spec: DepthwiseConv2DSpec) { self.spec = spec }
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] { fatalError("DepthwiseConv2DLayer: not implemented yet") }
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { fatalError("DepthwiseConv2DLayer: not implemented yet") }
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext) -> (Tensor, EmptyCache) { fatalError("DepthwiseConv2DLayer: not implemented yet") }
  public func backward(_ gradOutput: Tensor, cache: EmptyCache, params: [Tensor], paramGrads: inout [Tensor]) -> [Tensor] { fatalError("DepthwiseConv2DLayer: not implemented yet") }
}
