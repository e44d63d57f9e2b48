import AdaTensor

// PLACEHOLDER: replaced by the real implementation (forward + backward) before merge.
public struct ZeroPadding2DLayer: Layer {
  public var spec: ZeroPadding2DSpec
  public init(spec: ZeroPadding2DSpec) { self.spec = spec }
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] { fatalError("ZeroPadding2DLayer: not implemented yet") }
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { fatalError("ZeroPadding2DLayer: not implemented yet") }
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext) -> (Tensor, EmptyCache) { fatalError("ZeroPadding2DLayer: not implemented yet") }
  public func backward(_ gradOutput: Tensor, cache: EmptyCache, params: [Tensor], paramGrads: inout [Tensor]) -> [Tensor] { fatalError("ZeroPadding2DLayer: not implemented yet") }
}
