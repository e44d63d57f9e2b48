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
      reason = r.decision.reason
      rule = r.decision.rule.rawValue
      switched = r.decision.switched
      predictedMs = r.decision.predictedLatencyMs
      measuredMs = r.measuredLatencyMs
      late = r.measuredLatencyMs > slo
      loadMs = r.loadMs
      context = r.context
    }

    enum CodingKeys: String, CodingKey {
      case index, pass, examples, variant, reason, rule, switched, late, context
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
    var batchesPerVariant: [String: Int]

    enum CodingKeys: String, CodingKey {
      case batches, switches, late
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
  var steps: [Step]
  var totals: Totals
  var loadedVariants: [String]

  init(bundle: String, input: String, output: String, policy: Policy, steps: [Step], loadedVariants: [String])
  {
    self.bundle = bundle
    self.input = input
    self.output = output
    self.policy = policy
    self.steps = steps
    self.loadedVariants = loadedVariants
    let measured = steps.map(\.measuredMs).sorted()
    let late = steps.filter(\.late).count
    totals = Totals(
      batches: steps.count, switches: steps.filter(\.switched).count, late: late,
      lateRate: Double(late) / Double(max(steps.count, 1)),
      meanMeasuredMs: measured.reduce(0, +) / Double(max(measured.count, 1)),
      p99MeasuredMs: measured.isEmpty
        ? 0 : measured[min(Int((0.99 * Double(measured.count)).rounded(.up)), measured.count) - 1],
      meanPredictionError: steps.map { abs($0.measuredMs - $0.predictedMs) / $0.measuredMs }.reduce(0, +)
        / Double(max(steps.count, 1)),
      batchesPerVariant: Dictionary(steps.map { ($0.variant, 1) }, uniquingKeysWith: +))
  }

  enum CodingKeys: String, CodingKey {
    case bundle, input, output, policy, steps, totals
    case loadedVariants = "loaded_variants"
  }

  static let header = "batch  variant  cpu   predicted   measured  SLO   reason"

  static func ms(_ v: Double) -> String { String(format: v < 10 ? "%.3f ms" : "%.1f ms", v) }

  /// `   12  v2       0.50  1.210 ms   1.180 ms  ok    switched from v3: …`
  static func line(_ s: Step) -> String {
    let cpu = String(format: "%.2f", s.context.cpuShare)
    let name = s.variant.padding(toLength: max(7, s.variant.count), withPad: " ", startingAt: 0)
    let pred = ms(s.predictedMs)
    let meas = ms(s.measuredMs)
    let slo = s.late ? "LATE" : "ok  "
    let switched = s.switched ? "switched: " : ""
    let load = s.loadMs.map { String(format: " [loaded in %.1f ms]", $0) } ?? ""
    return String(format: "%5d", s.index) + "  \(name)  \(cpu)  \(pad(pred, 10))  \(pad(meas, 10))  \(slo)  "
      + switched + s.reason + load
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
      """
  }
}
