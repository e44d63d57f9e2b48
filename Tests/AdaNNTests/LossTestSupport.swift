import AdaTensor
import Foundation

/// Double-precision references for the loss tests: the formulas written out directly, and a
/// central difference on them. Float32 losses are too coarse for a finite difference to
/// resolve their small gradient entries, so the numeric side is computed here in Double.
enum LossReference {
  /// `log Σ exp(z)`, stabilised.
  static func logSumExp(_ z: [Double]) -> Double {
    let m = z.max()!
    return m + log(z.reduce(0) { $0 + exp($1 - m) })
  }

  static func softmax(_ z: [Double]) -> [Double] {
    let lse = logSumExp(z)
    return z.map { exp($0 - lse) }
  }

  /// Rows of a row-major `[N, K]` array.
  static func rows(_ flat: [Double], k: Int) -> [[Double]] {
    stride(from: 0, to: flat.count, by: k).map { Array(flat[$0..<($0 + k)]) }
  }

  /// Mean softmax cross-entropy of `[N, K]` logits.
  static func crossEntropy(_ logits: [Double], k: Int, labels: [Int32]) -> Double {
    let r = rows(logits, k: k)
    return zip(r, labels).reduce(0) { $0 + logSumExp($1.0) - $1.0[Int($1.1)] } / Double(r.count)
  }

  /// Central difference (h = 1e-5) of `f` at every element of `v`.
  static func numericGradient(_ v: [Double], _ f: ([Double]) -> Double) -> [Float] {
    let h = 1e-5
    return v.indices.map { i in
      var plus = v
      plus[i] += h
      var minus = v
      minus[i] -= h
      return Float((f(plus) - f(minus)) / (2 * h))
    }
  }

  static func double(_ t: Tensor) -> [Double] { t.scalars.map(Double.init) }
}
