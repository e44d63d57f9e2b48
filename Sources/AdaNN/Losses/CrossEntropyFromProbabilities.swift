import AdaTensor
import Foundation

/// Cross-entropy for models whose last layer is a softmax: given the softmax *output*
/// probabilities and integer labels, the batch-mean loss as Keras computes it
/// (`SparseCategoricalCrossentropy(from_logits=False)`).
///
/// Keras 3 (`keras/src/backend/jax/nn.py`, `sparse_categorical_crossentropy`) first renormalises
/// each row by its sum, then clips into `[ε, 1 − ε]` with `ε = 1e-7` (`backend.epsilon()`), then
/// takes the log; we do the same:
///
///     q_n  = clip(p_n[y_n] / S_n, ε, 1 − ε),   S_n = Σ_k p_n[k]
///     loss = −(1/N) Σ_n log q_n
///     dLoss/dp_n[j] = (1/N) · (1/S_n − [j = y_n] / p_n[y_n])   where the clip is inactive, else 0
///
/// When the probabilities come from a softmax layer, back-propagating `dProbabilities` through
/// the softmax backward is exact but wasteful and, at saturated rows, zero (the clip). Trainers
/// should use the fused shortcut `logitGradient(probabilities:labels:)` instead, which gives
/// `dLoss/dLogits` directly and skips the softmax layer's backward.
public struct CrossEntropyFromProbabilities: Sendable {
  /// Clipping bound, Keras' `backend.epsilon()`.
  public var epsilon: Float

  public init(epsilon: Float = 1e-7) {
    precondition(
      epsilon > 0 && epsilon < 0.5, "CrossEntropyFromProbabilities: epsilon \(epsilon) not in (0, 0.5)")
    self.epsilon = epsilon
  }

  /// - Parameters:
  ///   - probabilities: `[N, K]`, each row a softmax output (non-negative).
  ///   - labels: `N` class indices in `0..<K`.
  /// - Returns: the mean loss, and `dLoss/dProbabilities` `[N, K]`.
  public func evaluate(probabilities: Tensor, labels: [Int32]) -> (
    loss: Float, dProbabilities: Tensor
  ) {
    precondition(
      probabilities.rank == 2, "CrossEntropyFromProbabilities: expects [N, K], found \(probabilities.shape)")
    let (n, k) = (probabilities.shape[0], probabilities.shape[1])
    precondition(
      labels.count == n && n > 0, "CrossEntropyFromProbabilities: \(labels.count) labels for \(n) rows")
    var d = Tensor(shape: probabilities.shape)
    var total = 0.0
    let invN = 1 / Float(n)
    probabilities.scalars.withUnsafeBufferPointer { p in
      d.scalars.withUnsafeMutableBufferPointer { g in
        for r in 0..<n {
          let y = Int(labels[r])
          precondition(
            y >= 0 && y < k, "CrossEntropyFromProbabilities: label \(y) of row \(r) not in 0..<\(k)")
          let row = r * k
          var s: Float = 0
          for c in 0..<k { s += p[row + c] }
          let q = s > 0 ? p[row + y] / s : 0
          let clipped = min(max(q, epsilon), 1 - epsilon)
          total -= Double(log(clipped))
          guard q > epsilon && q < 1 - epsilon else { continue }  // clip active: no gradient
          for c in 0..<k { g[row + c] = invN / s }
          g[row + y] -= invN / p[row + y]
        }
      }
    }
    return (Float(total / Double(n)), d)
  }

  /// The fused shortcut for a softmax output layer: with `p = softmax(z)`,
  /// `d(mean cross-entropy)/dz = (p − onehot(y)) / N`, `[N, K]`.
  ///
  /// This is the gradient of the unclipped loss `−(1/N) Σ log p_n[y_n]`; it differs from
  /// back-propagating `evaluate`'s `dProbabilities` only on rows where Keras' clip is active
  /// (`p[y] < 1e-7` or `p[y] > 1 − 1e-7`), where the clipped loss has zero gradient and this one
  /// keeps pushing the right way. Use it, and skip the softmax layer's backward, in training.
  public static func logitGradient(probabilities: Tensor, labels: [Int32]) -> Tensor {
    precondition(
      probabilities.rank == 2 && labels.count == probabilities.shape[0],
      "CrossEntropyFromProbabilities.logitGradient: expects [N, K] and N labels, "
        + "found \(probabilities.shape) and \(labels.count)")
    let (n, k) = (probabilities.shape[0], probabilities.shape[1])
    var d = probabilities
    d.scale(by: 1 / Float(n))
    for (r, label) in labels.enumerated() {
      let y = Int(label)
      precondition(y >= 0 && y < k, "CrossEntropyFromProbabilities: label \(y) of row \(r) not in 0..<\(k)")
      d.scalars[r * k + y] -= 1 / Float(n)
    }
    return d
  }
}
