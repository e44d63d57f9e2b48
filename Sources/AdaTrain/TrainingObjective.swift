import AdaNN
import AdaTensor

/// What the trainer minimises, for one batch: the loss and its gradient with respect to each
/// model output. The losses themselves live in AdaNN (`Sources/AdaNN/Losses/`); an objective
/// chooses and combines them (cross-entropy, distillation).
///
/// The trainer runs the model with its final softmax split off (`Graph.splittingFinalSoftmax()`),
/// so for such outputs the objective receives *logits* and returns dLoss/dLogits — the fused
/// `softmax + cross-entropy` gradient `(p − onehot) / N` — instead of back-propagating through the
/// softmax Jacobian. `outputsAreLogits[k]` says which case output `k` is.
public protocol TrainingObjective: Sendable {
  /// Mean loss over the batch and dLoss/dOutput per output (`nil`: no loss on that output).
  /// When `needsGradient` is false (evaluation) the gradients may be `nil`.
  func evaluate(_ batch: ObjectiveBatch, needsGradient: Bool) -> ObjectiveResult
}

/// Knowledge-distillation weights: `loss = (1 − alpha) · CE(labels) + alpha · KD(teacher, T)`,
/// with the KD term defined by the loss in AdaNN (conventionally scaled by T²).
public struct DistillationWeights: Codable, Hashable, Sendable {
  public var alpha: Float
  public var temperature: Float

  public init(alpha: Float, temperature: Float) {
    self.alpha = alpha
    self.temperature = temperature
  }
}

/// One batch, as the objective sees it.
public struct ObjectiveBatch: Sendable {
  /// Model outputs, `[N, K]` each, in `graph.outputs` order.
  public var outputs: [Tensor]
  /// Whether output `k` holds logits (its final softmax was split off) rather than the model's
  /// own output.
  public var outputsAreLogits: [Bool]
  /// `N` class ids.
  public var labels: [Int32]
  /// The teacher's outputs for the same (augmented) batch when distilling, else `nil`.
  public var teacherOutputs: [Tensor]?
  /// Whether teacher output `k` holds logits.
  public var teacherOutputsAreLogits: [Bool]
  /// Distillation weights when distilling, else `nil`.
  public var distillation: DistillationWeights?

  public init(
    outputs: [Tensor], outputsAreLogits: [Bool], labels: [Int32],
    teacherOutputs: [Tensor]? = nil, teacherOutputsAreLogits: [Bool] = [],
    distillation: DistillationWeights? = nil
  ) {
    precondition(outputs.count == outputsAreLogits.count, "ObjectiveBatch: one logits flag per output")
    self.outputs = outputs
    self.outputsAreLogits = outputsAreLogits
    self.labels = labels
    self.teacherOutputs = teacherOutputs
    self.teacherOutputsAreLogits = teacherOutputsAreLogits
    self.distillation = distillation
  }

  public var batchSize: Int { labels.count }
}

/// The objective's answer for one batch.
public struct ObjectiveResult: Sendable {
  /// Mean loss over the batch.
  public var loss: Float
  /// dLoss/dOutput per output, shaped like the output; `nil` where no loss applies.
  public var gradients: [Tensor?]

  public init(loss: Float, gradients: [Tensor?]) {
    self.loss = loss
    self.gradients = gradients
  }
}

/// Number of rows of a `[N, K]` output whose largest entry is at the label (softmax keeps the
/// order, so logits and probabilities give the same count).
public func correctPredictions(_ output: Tensor, labels: [Int32]) -> Int {
  precondition(
    output.rank == 2 && output.shape[0] == labels.count,
    "correctPredictions: \(output.shape) vs \(labels.count) labels")
  var correct = 0
  for (r, p) in output.argmaxRows().enumerated() where p == Int(labels[r]) { correct += 1 }
  return correct
}
