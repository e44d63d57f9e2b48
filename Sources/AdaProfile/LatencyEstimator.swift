import AdaNN
import AdaTensor

/// A model's predicted batch-1 latency from its ops' table entries:
///
///     predicted = Σ_ops (mean_op + overhead_op),   variance = Σ_ops var_op
///
/// where `overhead_op = perNodeMs + perParameterMs · parameterTensors` is the executor's
/// per-node dispatch cost (`DispatchOverhead`), which timing ops alone cannot see. Ops are
/// assumed independent, so variances add.
public enum LatencyEstimator {
  /// One op's contribution to the total.
  public struct Term: Sendable {
    public var op: LatencyStats
    public var overheadMs: Double
    public var totalMs: Double { op.meanMs + overheadMs }
  }

  /// Per-op terms (in `ops` order) and the total. Every op's key must be in `table`.
  public static func predict(
    ops: [GraphOp], table: [String: LatencyStats], overhead: DispatchOverhead
  ) -> (terms: [Term], total: LatencyStats) {
    var total = LatencyStats.zero
    var terms: [Term] = []
    for op in ops {
      guard let stats = table[op.signature.key] else {
        preconditionFailure("LatencyEstimator: no latency for \(op.signature.key); measure it first")
      }
      let term = Term(op: stats, overheadMs: overhead.ms(parameterTensors: op.parameterTensors))
      terms.append(term)
      total.meanMs += term.totalMs
      total.varianceMs2 += stats.varianceMs2
    }
    return (terms, total)
  }

  /// Signed relative error of a prediction against a measurement: (predicted − measured) / measured.
  public static func relativeError(predictedMs: Double, measuredMs: Double) -> Double {
    (predictedMs - measuredMs) / measuredMs
  }
}
