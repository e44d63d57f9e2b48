import AdaTensor

// PLACEHOLDER: replaced by the real implementation (forward + backward) before merge.
public struct DropoutLayer: Layer {
  public var spec: DropoutSpec
  public init(spec: DropoutSpec) { self.spec = spec }
  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] { fatalError("DropoutLayer: not implemented yet") }
  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { fatalError("DropoutLayer: not implemented yet") }
  public func forward(_ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext) -> (Tensor, EmptyCache) { fatalError("DropoutLayer: not implemented yet") }
  public func backward(_ gradOutput: Tensor, cache: EmptyCache, params: [Tensor], paramGrads: inout [Tensor]) -> [Tensor] { fatalError("DropoutLayer: not implemented yet") }
}
