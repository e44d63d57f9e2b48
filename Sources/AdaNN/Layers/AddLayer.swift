import AdaTensor

// PLACEHOLDER: replaced by the real implementation (forward + backward) before merge.
public struct AddLayer: Layer {
  public init() {}
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] { fatalError("AddLayer: not implemented yet") }
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { fatalError("AddLayer: not implemented yet") }
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext) -> (Tensor, EmptyCache) { fatalError("AddLayer: not implemented yet") }
  public func backward(_ gradOutput: Tensor, cache: EmptyCache, params: [Tensor], paramGrads: inout [Tensor]) -> [Tensor] { fatalError("AddLayer: not implemented yet") }
}
