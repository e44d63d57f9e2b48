import AdaTensor
import Foundation

/// Softmax cross-entropy from logits with integer labels, averaged over the batch
/// (Keras `SparseCategoricalCrossentropy(from_logits=True)` with the default mean reduction).
///
///     loss = (1/N) Σ_n [ logΣexp(z_n) − z_n[y_n] ]
///     dLoss/dz_n = (softmax(z_n) − onehot(y_n)) / N
///
/// `logΣexp` subtracts the row maximum first, so large logits neither overflow nor lose the
/// loss to rounding; the loss is accumulated in Double.
///
///     let (loss, dLogits) = SoftmaxCrossEntropy().evaluate(logits: z, labels: y)  // z: [N, K]
public struct SoftmaxCrossEntropy: Sendable {
  public init() {}

  /// - Parameters:
  ///   - logits: `[N, K]`.
  ///   - labels: `N` class indices in `0..<K` (check data with `validate(labels:classCount:)`).
  /// - Returns: the mean loss, and `dLoss/dLogits` `[N, K]`.
  public func evaluate(logits: Tensor, labels: [Int32]) -> (loss: Float, dLogits: Tensor) {
    precondition(logits.rank == 2, "SoftmaxCrossEntropy: logits must be [N, K], found \(logits.shape)")
    let (n, k) = (logits.shape[0], logits.shape[1])
    precondition(labels.count == n, "SoftmaxCrossEntropy: \(labels.count) labels for \(n) rows")
    precondition(n > 0 && k > 0, "SoftmaxCrossEntropy: empty logits \(logits.shape)")
    var d = Tensor(shape: logits.shape)
    var total = 0.0
    let invN = 1 / Float(n)
    logits.scalars.withUnsafeBufferPointer { z in
      d.scalars.withUnsafeMutableBufferPointer { g in
        for r in 0..<n {
          let y = Int(labels[r])
          precondition(y >= 0 && y < k, "SoftmaxCrossEntropy: label \(y) of row \(r) not in 0..<\(k)")
          let row = r * k
          let lse = logSumExp(z, from: row, count: k)
          total += Double(lse - z[row + y])
          for c in 0..<k { g[row + c] = exp(z[row + c] - lse) * invN }
          g[row + y] -= invN
        }
      }
    }
    return (Float(total / Double(n)), d)
  }

  /// The mean loss alone (evaluation, no gradient buffer).
  public func loss(logits: Tensor, labels: [Int32]) -> Float {
    precondition(logits.rank == 2 && labels.count == logits.shape[0], "SoftmaxCrossEntropy.loss: shapes")
    let k = logits.shape[1]
    var total = 0.0
    logits.scalars.withUnsafeBufferPointer { z in
      for (r, label) in labels.enumerated() {
        let y = Int(label)
        precondition(y >= 0 && y < k, "SoftmaxCrossEntropy: label \(y) of row \(r) not in 0..<\(k)")
        total += Double(logSumExp(z, from: r * k, count: k) - z[r * k + y])
      }
    }
    return Float(total / Double(max(labels.count, 1)))
  }

  /// Checks labels read from a file before training: every label in `0..<classCount`.
  public static func validate(labels: [Int32], classCount: Int) throws(AdaError) {
    if let i = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
      throw AdaError(
        .invalidValue, path: "labels[\(i)]",
        "label \(labels[i]) is outside 0..<\(classCount) (the model has \(classCount) classes)")
    }
  }
}

/// `log Σ_c exp(z[from + c])` over `count` elements, stabilised by the maximum.
func logSumExp(_ z: UnsafeBufferPointer<Float>, from start: Int, count k: Int) -> Float {
  var m = -Float.infinity
  for c in 0..<k { m = max(m, z[start + c]) }
  if m == -.infinity { return m }
  var s: Float = 0
  for c in 0..<k { s += exp(z[start + c] - m) }
  return m + log(s)
}

/// Row-wise log-softmax of `z / temperature` for a `[N, K]` tensor: `z/T − logΣexp(z/T)`.
func logSoftmaxRows(_ logits: Tensor, temperature: Float = 1) -> Tensor {
  precondition(logits.rank == 2, "logSoftmaxRows: expects [N, K], found \(logits.shape)")
  let k = logits.shape[1]
  var out = logits
  if temperature != 1 { out.scale(by: 1 / temperature) }
  let scaled = out.scalars
  scaled.withUnsafeBufferPointer { z in
    out.scalars.withUnsafeMutableBufferPointer { o in
      for row in stride(from: 0, to: z.count, by: k) {
        let lse = logSumExp(z, from: row, count: k)
        for c in 0..<k { o[row + c] = z[row + c] - lse }
      }
    }
  }
  return out
}
