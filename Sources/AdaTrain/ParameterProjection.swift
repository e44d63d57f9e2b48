import AdaNN
import AdaTensor

/// Weights trained through a projection with the straight-through estimator, e.g. onto a
/// quantization grid (quantization-aware training).
///
/// The optimizer keeps and updates float *shadow* weights `w`; every forward and backward pass
/// of a training step runs with `P(w)` in their place, and the gradient computed at `P(w)` is
/// applied to `w` unchanged (`∂P/∂w` is taken as the identity). Weights without a projection are
/// used as they are. Validation and the trained model returned by `Trainer.fit` use `P(w)`;
/// checkpoints keep `w`, so a resumed run continues from the same shadow weights.
///
///     let grid = ParameterProjection(["fc/kernel": { w in w.map { $0.rounded() } }])
///     var config = TrainConfig(epochs: 1)
///     config.parameterProjection = grid
public struct ParameterProjection: Sendable {
  /// The projection of each projected weight, by parameter key (`node/name`). A projection
  /// must keep the weight's shape.
  public var projections: [String: @Sendable (Tensor) -> Tensor]

  public init(_ projections: [String: @Sendable (Tensor) -> Tensor]) {
    self.projections = projections
  }

  /// The projected keys, sorted.
  public var keys: [String] { projections.keys.sorted() }

  /// `parameters` with every projected weight replaced by its projection.
  public func projecting(_ parameters: Parameters) -> Parameters {
    var p = parameters
    _ = project(&p)
    return p
  }

  /// Replaces every projected weight of `parameters` by its projection and returns the
  /// replaced (shadow) tensors, for `restore`.
  func project(_ parameters: inout Parameters) -> [String: Tensor] {
    var shadow: [String: Tensor] = [:]
    for (key, projection) in projections {
      guard let w = parameters.tensors[key] else { continue }
      let projected = projection(w)
      precondition(
        projected.shape == w.shape,
        "ParameterProjection: \(key) projected to \(projected.shape), not \(w.shape)")
      shadow[key] = w
      parameters.tensors[key] = projected
    }
    return shadow
  }

  /// Puts the shadow tensors `project` returned back; other parameters (e.g. batch-norm moving
  /// statistics updated by the forward pass) keep their new values.
  func restore(_ shadow: [String: Tensor], into parameters: inout Parameters) {
    for (key, w) in shadow { parameters.tensors[key] = w }
  }
}
