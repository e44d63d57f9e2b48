import AdaTensor
import Foundation

/// How sure an exit head is of its prediction, in [0, 1]; an input leaves at the first exit
/// whose confidence reaches that exit's threshold (docs/exits.md).
///
/// - `maxSoftmax`: the largest class probability (BranchyNet, Shallow-Deep Networks).
/// - `entropy`: `1 − H(p) / log C`, one minus the normalised entropy of the probabilities
///   (1 for a one-hot prediction, 0 for a uniform one).
///
/// Both read probabilities; an exit whose output is logits (no final softmax) is put through a
/// softmax first (`isProbability: false`).
///
///     let c = ExitConfidence.maxSoftmax.scores(probs, isProbability: true)  // [N] in [0, 1]
public enum ExitConfidence: String, Codable, Hashable, Sendable, CaseIterable {
  case maxSoftmax = "max-softmax"
  case entropy

  /// The confidence of each row of a `[N, C]` output.
  public func scores(_ output: Tensor, isProbability: Bool) -> [Float] {
    precondition(output.rank == 2, "ExitConfidence: expected [N, C], found \(output.shape)")
    let n = output.shape[0]
    let c = output.shape[1]
    var result = [Float](repeating: 0, count: n)
    var row = [Float](repeating: 0, count: c)
    output.scalars.withUnsafeBufferPointer { p in
      for i in 0..<n {
        for j in 0..<c { row[j] = p[i * c + j] }
        if !isProbability { Self.softmax(&row) }
        result[i] = score(row)
      }
    }
    return result
  }

  /// The confidence of one probability vector.
  public func score(_ p: [Float]) -> Float {
    switch self {
    case .maxSoftmax:
      return min(max(p.max() ?? 0, 0), 1)
    case .entropy:
      guard p.count > 1 else { return 1 }
      var h: Double = 0
      for v in p where v > 0 { h -= Double(v) * log(Double(v)) }
      return Float(min(max(1 - h / log(Double(p.count)), 0), 1))
    }
  }

  /// Numerically stable softmax in place.
  static func softmax(_ row: inout [Float]) {
    let m = row.max() ?? 0
    var sum: Float = 0
    for j in row.indices {
      row[j] = Foundation.exp(row[j] - m)
      sum += row[j]
    }
    for j in row.indices { row[j] /= sum }
  }
}
