import AdaTensor

/// Keras `Reshape` (and `Flatten`, which is `ReshapeSpec(targetShape: [-1])`): the same scalars
/// in row-major order, viewed with another per-example shape. At most one `-1`, which takes
/// whatever size makes the element counts match. No parameters.
///
///     ReshapeLayer(spec: ReshapeSpec(targetShape: [-1]))      // [N, 7, 7, 32] → [N, 1568]
///     ReshapeLayer(spec: ReshapeSpec(targetShape: [4, -1]))   // [N, 2, 6]     → [N, 4, 3]
public struct ReshapeLayer: Layer {
  public var spec: ReshapeSpec

  public init(spec: ReshapeSpec) { self.spec = spec }

  public struct Cache: Sendable {
    /// The input's full shape `[N, …]`, to shape the gradient back.
    var inputShape: [Int]
    var inputsNeedGradient: Bool
  }

  // MARK: Shape contract

  /// The target shape with the `-1` resolved for an input of `inputShape` (batch excluded).
  public func resolvedShape(for inputShape: [Int]) throws(AdaError) -> [Int] {
    let target = spec.targetShape
    let count = inputShape.elementCount
    let unknown = target.indices.filter { target[$0] == -1 }
    guard unknown.count <= 1 else {
      throw AdaError(
        .invalidValue, "reshape target \(target) has \(unknown.count) unknown (-1) sizes; at most one")
    }
    if let bad = target.first(where: { $0 == 0 || $0 < -1 }) {
      throw AdaError(
        .invalidValue, "reshape target \(target) holds size \(bad); sizes must be positive or -1")
    }
    let known = target.filter { $0 != -1 }.elementCount
    guard let slot = unknown.first else {
      guard known == count else {
        throw AdaError(
          .badShape,
          "cannot reshape \(inputShape) (\(count) elements) to \(target) (\(known) elements)")
      }
      return target
    }
    guard count % known == 0 else {
      throw AdaError(
        .badShape,
        "cannot reshape \(inputShape) (\(count) elements) to \(target): "
          + "\(count) is not a multiple of \(known)")
    }
    var resolved = target
    resolved[slot] = count / known
    return resolved
  }

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard inputs.count == 1 else {
      throw AdaError(.badShape, "reshape takes one input, found \(inputs.count)")
    }
    return try resolvedShape(for: inputs[0])
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { [] }

  // MARK: Forward

  /// - Parameter inputs: one tensor `[N, …]`.
  /// - Returns: the same scalars as `[N] + resolvedShape`.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    precondition(inputs.count == 1, "ReshapeLayer: expects exactly one input")
    let x = inputs[0]
    precondition(x.rank >= 1, "ReshapeLayer: input needs a batch axis, found shape \(x.shape)")
    let inner: [Int]
    do {
      inner = try resolvedShape(for: Array(x.shape.dropFirst()))
    } catch {
      preconditionFailure("ReshapeLayer: \(error) (shapes are checked by Graph.inferShapes)")
    }
    let cache = Cache(
      inputShape: x.shape, inputsNeedGradient: context.needsBackward && context.inputsNeedGradient)
    return (x.reshaped([x.shape[0]] + inner), cache)
  }

  // MARK: Backward

  /// `dx` is `dy` viewed with the input's shape.
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else { return [Tensor(shape: [])] }
    return [gradOutput.reshaped(cache.inputShape)]
  }
}
