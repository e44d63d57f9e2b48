import AdaTensor

// PLACEHOLDER: replaced by the real implementation (forward + backward) before merge.
public struct MultiplyLayer: Layer {
  public init() {}
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] { fatalError("MultiplyLayer: not implemented yet") }
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { fatalError("MultiplyLayer: not implemented yet") }
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext) -> (Tensor, EmptyCache) { fatalError("MultiplyLayer: not implemented yet") }
  public func backward(_ gradOutput: Tensor, cache: EmptyCache, params: [Tensor], paramGrads: inout [Tensor]) -> [Tensor] { fatalError("MultiplyLayer: not implemented yet") }
}
