import AdaTensor

// PLACEHOLDER: replaced by the real implementation (forward + backward) before merge.
public struct ReLULayer: Layer {
  public var spec: ReLUSpec
  public init(spec: ReLUSpec) { self.spec = spec }
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] { fatalError("ReLULayer: not implemented yet") }
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { fatalError("ReLULayer: not implemented yet") }
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext) -> (Tensor, EmptyCache) { fatalError("ReLULayer: not implemented yet") }
  public func backward(_ gradOutput: Tensor, cache: EmptyCache, params: [Tensor], paramGrads: inout [Tensor]) -> [Tensor] { fatalError("ReLULayer: not implemented yet") }
}
