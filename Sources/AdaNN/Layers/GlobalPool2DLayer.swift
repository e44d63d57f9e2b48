import AdaTensor

// PLACEHOLDER: replaced by the real implementation (forward + backward) before merge.
public struct GlobalPool2DLayer: Layer {
  public var spec: GlobalPool2DSpec
  public init(spec: GlobalPool2DSpec) { self.spec = spec }
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] { fatalError("GlobalPool2DLayer: not implemented yet") }
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { fatalError("GlobalPool2DLayer: not implemented yet") }
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext) -> (Tensor, EmptyCache) { fatalError("GlobalPool2DLayer: not implemented yet") }
  public func backward(_ gradOutput: Tensor, cache: EmptyCache, params: [Tensor], paramGrads: inout [Tensor]) -> [Tensor] { fatalError("GlobalPool2DLayer: not implemented yet") }
}
