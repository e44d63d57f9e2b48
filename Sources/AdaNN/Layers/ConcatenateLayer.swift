import AdaTensor

// PLACEHOLDER: replaced by the real implementation (forward + backward) before merge.
public struct ConcatenateLayer: Layer {
  public var spec: ConcatenateSpec
  public init(spec: ConcatenateSpec) { self.spec = spec }
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] { fatalError("ConcatenateLayer: not implemented yet") }
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { fatalError("ConcatenateLayer: not implemented yet") }
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext) -> (Tensor, EmptyCache) { fatalError("ConcatenateLayer: not implemented yet") }
  public func backward(_ gradOutput: Tensor, cache: EmptyCache, params: [Tensor], paramGrads: inout [Tensor]) -> [Tensor] { fatalError("ConcatenateLayer: not implemented yet") }
}
