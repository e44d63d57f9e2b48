import AdaTensor

/// Keras `Add`: the elementwise sum of n ≥ 1 inputs of identical shape (no broadcasting).
/// `[N, …] × n → [N, …]`. No parameters. Backward hands `dy` to every input unchanged.
public struct AddLayer: Layer {
  public init() {}

  public struct Cache: Sendable {
    var inputCount: Int
    var inputsNeedGradient: Bool
  }

  // MARK: Shape contract

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    try elementwiseMergeShape(inputs, layer: "add")
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { [] }

  // MARK: Forward

  /// - Parameter inputs: n tensors `[N, …]`, all the same shape.
  /// - Returns: `Σ inputs`, same shape.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(!inputs.isEmpty, "AddLayer: needs at least one input")
    var y = inputs[0]
    for x in inputs.dropFirst() {
      precondition(x.shape == y.shape, "AddLayer: input shapes differ: \(inputs.map(\.shape))")
      y.add(x)
    }
    let cache = Cache(
      inputCount: inputs.count,
      inputsNeedGradient: context.needsBackward && context.inputsNeedGradient)
    return (y, cache)
  }

  // MARK: Backward

  /// `dx_i = dy` for every input.
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    let g = cache.inputsNeedGradient ? gradOutput : Tensor(shape: [])
    return [Tensor](repeating: g, count: cache.inputCount)
  }
}

/// Shape contract shared by the elementwise merge layers (Add, Multiply): at least one input,
/// all with the same per-example shape, which is the output shape.
func elementwiseMergeShape(_ inputs: [[Int]], layer: String) throws(AdaError) -> [Int] {
  guard let first = inputs.first else {
    throw AdaError(.badShape, "\(layer) needs at least one input, found none")
  }
  if let k = inputs.firstIndex(where: { $0 != first }) {
    throw AdaError(
      .badShape,
      "\(layer) needs inputs of the same shape (no broadcasting): input 0 is \(first), "
        + "input \(k) is \(inputs[k])")
  }
  return first
}
