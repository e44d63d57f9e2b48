import AdaTensor
import Foundation

/// Knowledge-distillation loss (Hinton et al., 2015) from student and teacher logits, averaged
/// over the batch:
///
///     P = softmax(teacher / T),  Q = softmax(student / T)           (row-wise, [N, K])
///     KL_n = Σ_k P_nk · (log P_nk − log Q_nk)
///     CE_n = logΣexp(student_n) − student_n[y_n]                      (temperature 1)
///     loss = (1/N) Σ_n [ α · T² · KL_n + (1 − α) · CE_n ]
///
///     dLoss/dStudent_n = (1/N)·[α·T·(Q_n − P_n) + (1 − α)·(softmax(student_n) − onehot(y_n))]
///
/// The `T²` keeps the soft-target gradient's magnitude independent of `T` (the KL gradient
/// w.r.t. the logits carries a `1/T`, and its size shrinks by another `1/T` as the softened
/// distributions flatten). With `α = 0` this is `SoftmaxCrossEntropy`; with `α = 1` labels are
/// not needed. The teacher gets no gradient (it is frozen). A teacher that ends in a softmax can
/// be passed through `teacherLogits(fromProbabilities:)`.
///
/// (Named `DistillationLoss` because AdaTrain's `Distillation` is the teacher-plus-weights setting.)
public struct DistillationLoss: Sendable {
  /// Softening temperature `T > 0`.
  public var temperature: Float
  /// Weight of the distillation term, in `[0, 1]`.
  public var alpha: Float

  public init(temperature: Float, alpha: Float) {
    precondition(
      temperature > 0 && temperature.isFinite, "DistillationLoss: temperature \(temperature) must be > 0")
    precondition(alpha >= 0 && alpha <= 1, "DistillationLoss: alpha \(alpha) must be in [0, 1]")
    self.temperature = temperature
    self.alpha = alpha
  }

  /// - Parameters:
  ///   - studentLogits: `[N, K]`.
  ///   - teacherLogits: `[N, K]`.
  ///   - labels: `N` class indices in `0..<K`; may be `nil` only when `alpha == 1`.
  /// - Returns: the mean loss, and `dLoss/dStudentLogits` `[N, K]`.
  public func evaluate(studentLogits: Tensor, teacherLogits: Tensor, labels: [Int32]?) -> (
    loss: Float, dStudentLogits: Tensor
  ) {
    precondition(
      studentLogits.rank == 2 && studentLogits.shape == teacherLogits.shape,
      "DistillationLoss: student \(studentLogits.shape) and teacher \(teacherLogits.shape) must both be [N, K]"
    )
    precondition(labels != nil || alpha == 1, "DistillationLoss: labels are needed when alpha < 1")
    let (n, k) = (studentLogits.shape[0], studentLogits.shape[1])
    precondition(n > 0, "DistillationLoss: empty batch")
    let t = temperature
    let logP = logSoftmaxRows(teacherLogits, temperature: t)
    let logQ = logSoftmaxRows(studentLogits, temperature: t)

    var kl = 0.0
    var d = Tensor(shape: studentLogits.shape)
    let softScale = alpha * t / Float(n)
    for i in 0..<(n * k) {
      let p = exp(logP.scalars[i])
      let q = exp(logQ.scalars[i])
      if p > 0 { kl += Double(p) * Double(logP.scalars[i] - logQ.scalars[i]) }
      d.scalars[i] = softScale * (q - p)
    }
    var loss = Double(alpha * t * t) * kl / Double(n)

    if alpha < 1, let labels {
      let (ce, dCE) = SoftmaxCrossEntropy().evaluate(logits: studentLogits, labels: labels)
      loss += Double(1 - alpha) * Double(ce)
      d.add(dCE, scaledBy: 1 - alpha)
    }
    return (Float(loss), d)
  }

  /// Logits equivalent to a teacher's softmax output `p` `[N, K]`: `log p` (floored at the
  /// smallest normal Float). Softmax ignores a per-row shift, so `softmax(log p / T)` equals
  /// `softmax(z / T)` for the teacher's own logits `z`.
  public static func teacherLogits(fromProbabilities p: Tensor) -> Tensor {
    p.map { log(max($0, .leastNormalMagnitude)) }
  }
}
