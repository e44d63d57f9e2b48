import AdaCore
import AdaIO
import AdaProfile
import AdaRuntime
import Foundation

/// What `adascale run` reports: one step per batch and totals.
struct RunReport: Codable {
  struct Step: Codable {
    var index: Int
    var pass: Int
    var examples: Int
    var variant: String
    /// The exit plan's operating point the batch ran at (nil: without early exits).
    var operatingPoint: String?
    /// Inputs per exit, the final output last (nil when the variant ran without its exits).
    var exitHistogram: [Int]?
    /// MACs of the batch: per input, what the exit it took cost.
    var macs: Int
    var reason: String
    var rule: String
    var switched: Bool
    var predictedMs: Double
    var measuredMs: Double
    /// Measured latency above the SLO.
    var late: Bool
    var loadMs: Double?
    var context: DeviceContext

    init(index: Int, pass: Int, examples: Int, result r: AdaptiveResult, slo: Double) {
      self.index = index
      self.pass = pass
      self.examples = examples
      variant = r.decision.variant
      operatingPoint = r.decision.operatingPoint
      exitHistogram = r.exitHistogram
      macs = r.macsPerInput.reduce(0, +)
      reason = r.decision.reason
      rule = r.decision.rule.rawValue
      switched = r.decision.switched
      predictedMs = r.decision.predictedLatencyMs
      measuredMs = r.measuredLatencyMs
      late = r.measuredLatencyMs > slo
      loadMs = r.loadMs
      context = r.context
    }

    /// `v3`, or `v3@drop-0.5`.
    var label: String { operatingPoint.map { "\(variant)@\($0)" } ?? variant }

    enum CodingKeys: String, CodingKey {
      case index, pass, examples, variant, reason, rule, switched, late, context, macs
      case operatingPoint = "operating_point"
      case exitHistogram = "exit_histogram"
      case predictedMs = "predicted_ms"
      case measuredMs = "measured_ms"
      case loadMs = "load_ms"
    }
  }

  struct Totals: Codable {
    var batches: Int
    var switches: Int
    var late: Int
    var lateRate: Double
    var meanMeasuredMs: Double
    var p99MeasuredMs: Double
    /// Mean |measured − predicted| / measured.
    var meanPredictionError: Double
    /// Batches per candidate (`v3`, `v3@drop-0.5`).
    var batchesPerVariant: [String: Int]
    var examples: Int
    /// Measured milliseconds per input: all batches' time over all inputs.
    var meanMsPerInput: Double
    /// MACs per input, each input costing what the exit it took cost.
    var meanMacsPerInput: Double
    /// Inputs per exit over the run (`exit_0`, `exit_1`, …, `final`); inputs of variants run
    /// without exits count as `final`. Nil when no batch ran with exits.
    var exitHistogram: [String: Int]?

    enum CodingKeys: String, CodingKey {
      case batches, switches, late, examples
      case meanMsPerInput = "mean_ms_per_input"
      case meanMacsPerInput = "mean_macs_per_input"
      case exitHistogram = "exit_histogram"
      case lateRate = "late_rate"
      case meanMeasuredMs = "mean_measured_ms"
      case p99MeasuredMs = "p99_measured_ms"
      case meanPredictionError = "mean_prediction_error"
      case batchesPerVariant = "batches_per_variant"
    }
  }

  var bundle: String
  var input: String
  var output: String
  var policy: Policy
  /// `auto`, `off` or the operating point asked for.
  var exits: String
  var steps: [Step]
  var totals: Totals
  var loadedVariants: [String]
  /// `--memory-budget-mb` in bytes (nil: none).
  var memoryBudgetBytes: Int?
  /// The most variant weight held at once, counting a variant being read (manifest bytes).
  var peakWeightBytes: Int
  /// Peak resident memory of the whole process (`VmHWM`), MB.
  var peakRssMB: Double?

  init(
    bundle: String, input: String, output: String, policy: Policy, exits: String, steps: [Step],
    loadedVariants: [String], memoryBudgetBytes: Int? = nil, peakWeightBytes: Int = 0,
    peakRssMB: Double? = nil
  ) {
    self.memoryBudgetBytes = memoryBudgetBytes
    self.peakWeightBytes = peakWeightBytes
    self.peakRssMB = peakRssMB
    self.bundle = bundle
    self.input = input
    self.output = output
    self.policy = policy
    self.exits = exits
    self.steps = steps
    self.loadedVariants = loadedVariants
    let measured = steps.map(\.measuredMs).sorted()
    let late = steps.filter(\.late).count
    let examples = steps.reduce(0) { $0 + $1.examples }
    totals = Totals(
      batches: steps.count, switches: steps.filter(\.switched).count, late: late,
      lateRate: Double(late) / Double(max(steps.count, 1)),
      meanMeasuredMs: measured.reduce(0, +) / Double(max(measured.count, 1)),
      p99MeasuredMs: measured.isEmpty
        ? 0 : measured[min(Int((0.99 * Double(measured.count)).rounded(.up)), measured.count) - 1],
      meanPredictionError: steps.map { abs($0.measuredMs - $0.predictedMs) / $0.measuredMs }.reduce(0, +)
        / Double(max(steps.count, 1)),
      batchesPerVariant: Dictionary(steps.map { ($0.label, 1) }, uniquingKeysWith: +), examples: examples,
      meanMsPerInput: steps.map(\.measuredMs).reduce(0, +) / Double(max(examples, 1)),
      meanMacsPerInput: Double(steps.reduce(0) { $0 + $1.macs }) / Double(max(examples, 1)),
      exitHistogram: Self.exitHistogram(steps))
  }

  /// Inputs per exit name over `steps`, nil when none ran with exits.
  static func exitHistogram(_ steps: [Step]) -> [String: Int]? {
    guard steps.contains(where: { $0.exitHistogram != nil }) else { return nil }
    var h: [String: Int] = [:]
    for s in steps {
      guard let e = s.exitHistogram else {
        h["final", default: 0] += s.examples
        continue
      }
      for (k, count) in e.enumerated() where count > 0 {
        h[k == e.count - 1 ? "final" : "exit_\(k)", default: 0] += count
      }
    }
    return h
  }

  /// `exit 0 12 (37.5%), exit 1 4 (12.5%), final 16 (50.0%)`, shallowest first.
  static func histogramText(_ h: [String: Int]) -> String {
    let total = max(h.values.reduce(0, +), 1)
    let exits = h.keys.filter { $0 != "final" }.sorted { Int($0.dropFirst(5))! < Int($1.dropFirst(5))! }
    return (exits + (h["final"] != nil ? ["final"] : [])).map { key in
      let name = key == "final" ? "final" : "exit " + key.dropFirst(5)
      return "\(name) \(h[key]!) (\(String(format: "%.1f", 100 * Double(h[key]!) / Double(total)))%)"
    }.joined(separator: ", ")
  }

  enum CodingKeys: String, CodingKey {
    case bundle, input, output, policy, exits, steps, totals
    case loadedVariants = "loaded_variants"
    case memoryBudgetBytes = "memory_budget_bytes"
    case peakWeightBytes = "peak_weight_bytes"
    case peakRssMB = "peak_rss_mb"
  }

  static let header = "batch  variant  cpu   predicted   measured  SLO   reason"

  static func ms(_ v: Double) -> String { String(format: v < 10 ? "%.3f ms" : "%.1f ms", v) }

  /// `   12  v2       0.50  1.210 ms   1.180 ms  ok    switched from v3: …`
  static func line(_ s: Step) -> String {
    let cpu = String(format: "%.2f", s.context.cpuShare)
    let name = s.label.padding(toLength: max(7, s.label.count), withPad: " ", startingAt: 0)
    let pred = ms(s.predictedMs)
    let meas = ms(s.measuredMs)
    let slo = s.late ? "LATE" : "ok  "
    let switched = s.switched ? "switched: " : ""
    let load = s.loadMs.map { String(format: " [loaded in %.1f ms]", $0) } ?? ""
    let exits = s.exitHistogram.map { "exits " + $0.map(String.init).joined(separator: "/") + "  " } ?? ""
    return String(format: "%5d", s.index) + "  \(name)  \(cpu)  \(pad(pred, 10))  \(pad(meas, 10))  \(slo)  "
      + exits + switched + s.reason + load
  }

  static func pad(_ s: String, _ width: Int) -> String {
    String(repeating: " ", count: max(width - s.count, 0)) + s
  }

  var summary: String {
    let t = totals
    let perVariant = t.batchesPerVariant.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
      .joined(separator: ", ")
    return """
      \(t.batches) batches, \(t.switches) switches; measured mean \(Self.ms(t.meanMeasuredMs)), \
      p99 \(Self.ms(t.p99MeasuredMs)); over the SLO \(Self.ms(policy.sloMs ?? 0)): \(t.late) \
      (\(String(format: "%.1f", t.lateRate * 100))%); prediction error \(String(format: "%.0f", t.meanPredictionError * 100))%
      batches per variant: \(perVariant) → \(output)
      per input: \(String(format: "%.1f", t.meanMacsPerInput)) MACs, \(Self.ms(t.meanMsPerInput)) measured\
      \(t.exitHistogram.map { "; exits: " + Self.histogramText($0) } ?? "")
      """ + memoryText
  }

  /// `\nvariant weights held at most 24.0 MB (budget 30.0 MB); peak RSS 80 MB`.
  var memoryText: String {
    let budget = memoryBudgetBytes.map { " (budget \(MemoryBudget.format($0)))" } ?? ""
    let rss = peakRssMB.map { String(format: "; peak RSS %.0f MB", $0) } ?? ""
    return "\nvariant weights held at most \(MemoryBudget.format(peakWeightBytes))\(budget)\(rss)"
  }
}
