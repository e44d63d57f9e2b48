import AdaTensor

// PLACEHOLDER: replaced by the real implementation (forward + backward) before merge.
public struct Conv2DLayer: Layer {
  public var spec: Conv2DSpec
  public init(spec: Conv2DSpec) { self.spec = spec }
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] { fatalError("Conv2DLayer: not implemented yet") }
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { fatalError("Conv2DLayer: not implemented yet") }
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext) -> (Tensor, EmptyCache) { fatalError("Conv2DLayer: not implemented yet") }
  public func backward(_ gradOutput: Tensor, cache: EmptyCache, params: [Tensor], paramGrads: inout [Tensor]) -> [Tensor] { fatalError("Conv2DLayer: not implemented yet") }
}
