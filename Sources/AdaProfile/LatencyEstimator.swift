import AdaNN
import AdaTensor

/// A model's predicted batch-1 latency from its ops' table entries plus the context terms:
///
///     predicted = Σ_ops (mean_op + dispatch_op + weights_op),   variance = Σ_ops var_op
///
/// where `dispatch_op + weights_op` is what the node costs inside `Executor.predict` beyond the
/// op timed alone (`DispatchOverhead`: per node, per parameter tensor, per weight byte, and a
/// per-model start on the input node). Ops are assumed independent, so variances add. A chain's
/// prediction is the sum of its nodes' terms, so splitting a graph splits its prediction.
public enum LatencyEstimator {
  /// One op's contribution to the total.
  public struct Term: Sendable {
    public var op: LatencyStats
    /// Dispatch part of the context (scales with clock on other devices).
    public var overheadMs: Double
    /// Weights re-read from a colder cache (scales with memory bandwidth on other devices).
    public var weightMs: Double = 0
    /// True when the op's signature was not in the table and its time is the roofline fallback.
    public var modelled = false
    public var totalMs: Double { op.meanMs + overheadMs + weightMs }

    public init(op: LatencyStats, overheadMs: Double, weightMs: Double = 0, modelled: Bool = false) {
      self.op = op
      self.overheadMs = overheadMs
      self.weightMs = weightMs
      self.modelled = modelled
    }
  }

  /// Per-op terms (in `ops` order) and the total. An op whose key is not in `table` gets the
  /// host roofline (`roofline`) when `host` is given; without `host`, every key must be there.
  public static func predict(
    ops: [GraphOp], table: [String: LatencyStats], overhead: DispatchOverhead,
    host: HostMeasurements? = nil
  ) -> (terms: [Term], total: LatencyStats) {
    var total = LatencyStats.zero
    var terms: [Term] = []
    for op in ops {
      let measured = table[op.signature.key]
      guard let stats = measured ?? host.map({ roofline(op.work, host: $0) }) else {
        preconditionFailure("LatencyEstimator: no latency for \(op.signature.key); measure it first")
      }
      let context = overhead.context(of: op)
      let term = Term(
        op: stats, overheadMs: context.dispatchMs, weightMs: context.weightMs, modelled: measured == nil)
      terms.append(term)
      total.meanMs += term.totalMs
      total.varianceMs2 += stats.varianceMs2
    }
    return (terms, total)
  }

  /// Fallback for a signature nobody timed: the host's roofline, `max(flops / peak, bytes /
  /// bandwidth)` — a lower bound for the op's own work; the context terms still add the node's
  /// fixed costs. Count 0 and variance 0 (not a measurement).
  public static func roofline(_ work: OpWork, host: HostMeasurements) -> LatencyStats {
    let compute = Double(work.flops) / (host.peakGflops * 1e9)
    let memory = Double(work.bytesMoved) / (host.bandwidthGBs * 1e9)
    return LatencyStats(count: 0, meanMs: max(compute, memory) * 1e3, varianceMs2: 0)
  }

  /// Signed relative error of a prediction against a measurement: (predicted − measured) / measured.
  public static func relativeError(predictedMs: Double, measuredMs: Double) -> Double {
    (predictedMs - measuredMs) / measuredMs
  }
}
