import AdaNN
import AdaTensor

/// The standard objective for classifiers, built from the AdaNN losses, Keras-compatible:
///
/// - an output whose final softmax was split off (the usual Keras classifier, compiled with
///   `SparseCategoricalCrossentropy()`): the loss is Keras's cross-entropy *from probabilities*
///   on `p = softmax(logits)` (`CrossEntropyFromProbabilities`, same clipping, so reported losses
///   match Keras), and the gradient is the fused shortcut `dLogits = (p − onehot) / N`
///   (`CrossEntropyFromProbabilities.logitGradient`): the softmax layer's backward never runs;
/// - an output without a final softmax: its values are logits (Keras `from_logits=True`) and the
///   loss is `SoftmaxCrossEntropy` — or, with `unsplitOutputs = .probabilities`, they are read as
///   probabilities and back-propagated through `CrossEntropyFromProbabilities`;
/// - when distilling (`batch.distillation` set), outputs with logits use `DistillationLoss`
///   (`α·T²·KL(teacher_T ‖ student_T) + (1 − α)·CE`), the teacher's first output (or its output
///   of the same index, when it has as many) as soft targets; a teacher output that is still a
///   probability vector is turned into logits with `DistillationLoss.teacherLogits`.
///
/// Several outputs (early exits) add their losses, weighted by `outputWeights` (default all 1),
/// as Keras sums the losses of a multi-output model.
public struct ClassificationObjective: TrainingObjective {
  public enum UnsplitOutputs: String, Codable, Hashable, Sendable {
    case logits, probabilities
  }

  public var unsplitOutputs: UnsplitOutputs
  /// Weight of each output's loss; `nil` weighs every output 1.
  public var outputWeights: [Float]?

  public init(unsplitOutputs: UnsplitOutputs = .logits, outputWeights: [Float]? = nil) {
    self.unsplitOutputs = unsplitOutputs
    self.outputWeights = outputWeights
  }

  public func evaluate(_ batch: ObjectiveBatch, needsGradient: Bool) -> ObjectiveResult {
    if let w = outputWeights {
      precondition(
        w.count == batch.outputs.count,
        "ClassificationObjective: \(w.count) weights for \(batch.outputs.count) outputs")
    }
    var total: Float = 0
    var gradients: [Tensor?] = []
    for (k, output) in batch.outputs.enumerated() {
      let weight = outputWeights?[k] ?? 1
      guard weight != 0 else {
        gradients.append(nil)
        continue
      }
      var (loss, gradient) = outputLoss(k, output, batch, needsGradient: needsGradient)
      if weight != 1 { gradient?.scale(by: weight) }
      total += weight * loss
      gradients.append(gradient)
    }
    return ObjectiveResult(loss: total, gradients: gradients)
  }

  /// Loss and dLoss/dOutput of output `k`.
  private func outputLoss(_ k: Int, _ output: Tensor, _ batch: ObjectiveBatch, needsGradient: Bool) -> (
    Float, Tensor?
  ) {
    let isLogits = batch.outputsAreLogits[k] || unsplitOutputs == .logits
    if let weights = batch.distillation, let teacher = batch.teacherOutputs, !teacher.isEmpty {
      precondition(
        isLogits, "ClassificationObjective: distillation needs logits; output \(k) holds probabilities")
      let t = min(k, teacher.count - 1)
      let teacherIsLogits = t < batch.teacherOutputsAreLogits.count && batch.teacherOutputsAreLogits[t]
      let teacherLogits =
        teacherIsLogits ? teacher[t] : DistillationLoss.teacherLogits(fromProbabilities: teacher[t])
      let (loss, d) = DistillationLoss(temperature: weights.temperature, alpha: weights.alpha)
        .evaluate(studentLogits: output, teacherLogits: teacherLogits, labels: batch.labels)
      return (loss, d)
    }
    if batch.outputsAreLogits[k] {
      // The model's own output is softmax(logits): Keras's loss on it, fused gradient to the logits.
      let p = Activation.softmax.apply(output)
      let loss = CrossEntropyFromProbabilities().evaluate(probabilities: p, labels: batch.labels).loss
      return (
        loss,
        needsGradient
          ? CrossEntropyFromProbabilities.logitGradient(probabilities: p, labels: batch.labels) : nil
      )
    }
    if isLogits {
      if !needsGradient { return (SoftmaxCrossEntropy().loss(logits: output, labels: batch.labels), nil) }
      let (loss, d) = SoftmaxCrossEntropy().evaluate(logits: output, labels: batch.labels)
      return (loss, d)
    }
    let (loss, d) = CrossEntropyFromProbabilities().evaluate(probabilities: output, labels: batch.labels)
    return (loss, needsGradient ? d : nil)
  }
}
