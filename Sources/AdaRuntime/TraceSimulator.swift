import AdaProfile

/// Replays a `ContextTrace` against a bundle's lookup table, without inference: the paper's
/// comparison of the adaptive policy with every fixed variant, reproducible (docs/runtime.md).
///
/// Each row is one decision and one call of `policy.batch` examples. The call's latency is the
/// LUT's nominal latency scaled by the row's context (`VariantProfile.latencyMs(in:batch:)`);
/// with no measurements there is no feedback, so the selector's prediction is exact and what
/// the replay tests is the decision rule and its hysteresis. A row counts:
/// - an **SLO violation** when the latency exceeds `policy.sloMs`;
/// - a **memory violation** when the variant's memory at the batch exceeds the row's available
///   memory (no headroom: headroom is the selector's safety margin, this is the real limit);
/// - the variant's modelled energy in the row's context × batch, summed as `energy_j`;
/// - the variant's accuracy, averaged as `mean_accuracy`.
public enum TraceSimulator {
  /// One policy's totals over a trace.
  public struct Outcome: Codable, Hashable, Sendable {
    /// `adaptive`, or the variant id of a fixed policy.
    public var policy: String
    /// The fixed variant (nil for the adaptive policy).
    public var variant: String?
    public var rows: Int
    public var sloViolations: Int
    public var sloViolationRate: Double
    public var meanAccuracy: Double
    public var energyJ: Double
    public var switches: Int
    public var memoryViolations: Int
    public var meanLatencyMs: Double
    public var maxLatencyMs: Double
    /// Rows each variant ran for.
    public var variantRows: [String: Int]

    enum CodingKeys: String, CodingKey {
      case policy, variant, rows, switches
      case sloViolations = "slo_violations"
      case sloViolationRate = "slo_violation_rate"
      case meanAccuracy = "mean_accuracy"
      case energyJ = "energy_j"
      case memoryViolations = "memory_violations"
      case meanLatencyMs = "mean_latency_ms"
      case maxLatencyMs = "max_latency_ms"
      case variantRows = "variant_rows"
    }
  }

  /// One row of the adaptive replay.
  public struct Step: Codable, Hashable, Sendable {
    public var t: Double
    public var line: Int
    public var context: DeviceContext
    public var decision: Decision
    public var latencyMs: Double
    public var late: Bool
    public var memoryViolation: Bool

    enum CodingKeys: String, CodingKey {
      case t, line, context, decision, late
      case latencyMs = "latency_ms"
      case memoryViolation = "memory_violation"
    }
  }

  public struct Report: Codable, Hashable, Sendable {
    public var trace: String
    public var sloMs: Double?
    public var batch: Int
    public var adaptive: Outcome
    /// One entry per variant, in the bundle's order.
    public var fixed: [Outcome]
    /// The adaptive replay row by row.
    public var steps: [Step]

    enum CodingKeys: String, CodingKey {
      case trace, batch, adaptive, fixed, steps
      case sloMs = "slo_ms"
    }
  }

  /// Replays `trace` with the adaptive selector and with each variant held fixed.
  public static func run(variants: [VariantProfile], policy: Policy, trace: ContextTrace) -> Report {
    var selector = VariantSelector(variants: variants, policy: policy)
    var steps: [Step] = []
    var adaptive = Tally()
    for row in trace.rows {
      let d = selector.select(row.context)
      let v = variants[selector.current!]
      let r = adaptive.add(v, row.context, policy, switched: d.switched)
      steps.append(
        Step(
          t: row.t, line: row.line, context: row.context, decision: d, latencyMs: r.latency, late: r.late,
          memoryViolation: r.memoryViolation))
    }
    let fixed = variants.map { v in
      var tally = Tally()
      for row in trace.rows { _ = tally.add(v, row.context, policy, switched: false) }
      return tally.outcome(policy: v.id, variant: v.id)
    }
    return Report(
      trace: trace.file, sloMs: policy.sloMs, batch: policy.batch,
      adaptive: adaptive.outcome(policy: "adaptive", variant: nil), fixed: fixed, steps: steps)
  }

  /// Running totals of one policy.
  struct Tally {
    var rows = 0
    var late = 0
    var accuracy = 0.0
    var energyMj = 0.0
    var switches = 0
    var memoryViolations = 0
    var latency = 0.0
    var maxLatency = 0.0
    var variantRows: [String: Int] = [:]

    mutating func add(
      _ v: VariantProfile, _ c: DeviceContext, _ p: Policy, switched: Bool
    ) -> (latency: Double, late: Bool, memoryViolation: Bool) {
      let t = v.latencyMs(in: c, batch: p.batch)
      let isLate = p.sloMs.map { t > $0 } ?? false
      let overMemory =
        c.memoryAvailableMB.map { Double(v.memoryBytes(batch: p.batch)) > $0 * 1_048_576 } ?? false
      rows += 1
      late += isLate ? 1 : 0
      accuracy += v.accuracy
      energyMj += v.energyMj(in: c) * Double(p.batch)
      switches += switched ? 1 : 0
      memoryViolations += overMemory ? 1 : 0
      latency += t
      maxLatency = max(maxLatency, t)
      variantRows[v.id, default: 0] += 1
      return (t, isLate, overMemory)
    }

    func outcome(policy: String, variant: String?) -> Outcome {
      let n = Double(max(rows, 1))
      return Outcome(
        policy: policy, variant: variant, rows: rows, sloViolations: late, sloViolationRate: Double(late) / n,
        meanAccuracy: accuracy / n, energyJ: energyMj / 1000, switches: switches,
        memoryViolations: memoryViolations,
        meanLatencyMs: latency / n, maxLatencyMs: maxLatency, variantRows: variantRows)
    }
  }
}

extension Policy {
  /// The SLO `run` and `simulate` use when none is given: 1.25 × the most accurate variant's
  /// nominal latency at `batch`, so that it is on time on an idle machine with 25% to spare.
  public static func defaultSLO(for variants: [VariantProfile], batch: Int = 1) -> Double {
    let best = variants.max { ($0.accuracy, -$0.latencyMs) < ($1.accuracy, -$1.latencyMs) }!
    return 1.25 * best.latencyMs * Double(batch)
  }
}
