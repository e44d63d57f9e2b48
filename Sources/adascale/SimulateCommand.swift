import AdaBundle
import AdaBundleWriter
import AdaProfile
import AdaRuntime
import AdaTensor
import ArgumentParser
import Foundation

struct SimulateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract: "Replay a context trace against a bundle: the adaptive policy versus every fixed variant.",
    discussion: HelpText.reflow(
      """
      Each row of the trace (CSV: t, cpu_share, mem_available_mb, battery, and optionally
      freq_scale and thermal; see recipes/traces/) is one decision and one batch. No inference
      runs: a variant's latency is its lookup-table latency scaled by the row's context, and
      the adaptive policy uses the same selector as `adascale run`, hysteresis included. For the
      adaptive policy and each variant held fixed it reports the SLO violation rate, mean
      accuracy, modelled energy, switches and memory violations (docs/runtime.md).

      --switch-cost N also loads every variant and times N decisions (select + swap) along the
      trace: the adaptation loop's overhead between two inferences.

      Examples:
        adascale simulate --bundle out/fmnist-bundle \\
          --trace recipes/traces/cpu_hog.csv
        adascale simulate --bundle B --trace recipes/traces/commute.csv \\
          --slo-ms 1.5 --json
        adascale simulate --bundle B --trace recipes/traces/commute.csv \\
          --switch-cost 10000
      """))

  @Option(help: "Bundle directory (written by `adascale compress`).")
  var bundle: String

  @Option(help: "Context trace, CSV (see recipes/traces/).")
  var trace: String

  @OptionGroup var policyOptions: PolicyOptions

  @Option(help: "Examples per decision.")
  var batch = 1

  @Flag(help: "Print every row's decision (human output) or include them (JSON: `steps`).")
  var steps = false

  @Option(help: "Also load every variant and time this many select + swap decisions.")
  var switchCost: Int?

  @Flag(help: "Print JSON: {\"adaptive\": {…}, \"fixed\": [{\"variant\": …}, …]}.")
  var json = false

  func validate() throws {
    try policyOptions.validate()
    if batch < 1 { throw ValidationError("--batch must be at least 1") }
    if let n = switchCost, n < 1 { throw ValidationError("--switch-cost must be at least 1") }
  }

  struct Report: Codable {
    var bundle: String
    var trace: String
    var rows: Int
    var sloMs: Double
    var batch: Int
    var adaptive: TraceSimulator.Outcome
    var fixed: [TraceSimulator.Outcome]
    var steps: [TraceSimulator.Step]?
    var switchCost: SwitchCost?

    enum CodingKeys: String, CodingKey {
      case bundle, trace, rows, batch, adaptive, fixed, steps
      case sloMs = "slo_ms"
      case switchCost = "switch_cost"
    }
  }

  func run() throws {
    let opened = try ModelBundle.open(bundle)
    let contextTrace = try ContextTrace.load(path: trace)
    let profiles = try VariantProfile.profiles(from: opened, device: policyOptions.device)
    let policy = policyOptions.policy(for: profiles, batch: batch)
    let result = TraceSimulator.run(variants: profiles, policy: policy, trace: contextTrace)
    var cost: SwitchCost?
    if let n = switchCost {
      let model = try AdaptiveModel(
        bundle: opened, policy: policy, device: policyOptions.device, monitor: nil)
      cost = try model.measureSwitching(contexts: contextTrace.rows.map(\.context), decisions: n)
    }
    let report = Report(
      bundle: bundle, trace: trace, rows: contextTrace.rows.count, sloMs: policy.sloMs!, batch: batch,
      adaptive: result.adaptive, fixed: result.fixed, steps: steps ? result.steps : nil, switchCost: cost)
    if json { return try Output.printJSON(report) }
    print(Self.render(report, profiles: profiles))
  }

  static func render(_ r: Report, profiles: [VariantProfile]) -> String {
    var out: [String] = []
    out.append(
      "trace \(r.trace): \(r.rows) rows; bundle \(r.bundle): \(profiles.count) variants; "
        + "SLO \(fmt(r.sloMs, 3)) ms per batch of \(r.batch)")
    if let steps = r.steps {
      out.append(
        Output.table(
          header: ["t s", "cpu", "mem MB", "battery", "variant", "latency ms", "", "reason"],
          rows: steps.map { s in
            [
              fmt(s.t, 1), fmt(s.context.cpuShare, 2), s.context.memoryAvailableMB.map { fmt($0, 0) } ?? "-",
              s.context.batteryLevel.map { fmt($0, 2) } ?? "-", s.decision.variant, fmt(s.latencyMs, 3),
              s.late ? "LATE" : (s.memoryViolation ? "OOM" : ""),
              (s.decision.switched ? "switched: " : "") + s.decision.reason,
            ]
          }))
    }
    let accuracy = Dictionary(uniqueKeysWithValues: profiles.map { ($0.id, $0.accuracy) })
    let rows = ([r.adaptive] + r.fixed).map { o in
      [
        o.variant.map { "fixed \($0)" } ?? "adaptive",
        o.variant.flatMap { accuracy[$0] }.map { fmt($0, 3) } ?? "-",
        fmt(o.sloViolationRate * 100, 1) + "%", fmt(o.meanAccuracy, 4), fmt(o.energyJ, 4), "\(o.switches)",
        "\(o.memoryViolations)", fmt(o.meanLatencyMs, 3),
      ]
    }
    out.append(
      Output.table(
        header: [
          "policy", "accuracy", "late", "mean accuracy", "energy J", "switches", "out of memory", "mean ms",
        ],
        rows: rows))
    let dominated = r.fixed.filter {
      $0.meanAccuracy >= r.adaptive.meanAccuracy && $0.sloViolationRate <= r.adaptive.sloViolationRate
    }
    out.append(
      dominated.isEmpty
        ? "no fixed variant is both at least as accurate and at most as often late as the adaptive policy"
        : "at least as accurate and at most as often late as adaptive: \(dominated.compactMap(\.variant).joined(separator: ", "))"
    )
    if let c = r.switchCost {
      out.append(
        "switch cost (select + swap, variants loaded): mean \(fmt(c.meanUs, 2)) µs, p50 \(fmt(c.p50Us, 2)) µs, "
          + "p99 \(fmt(c.p99Us, 2)) µs, max \(fmt(c.maxUs, 1)) µs over \(c.decisions) decisions; "
          + "\(c.switches) switches: mean \(c.switchMeanUs.map { fmt($0, 2) } ?? "-") µs, "
          + "p99 \(c.switchP99Us.map { fmt($0, 2) } ?? "-") µs; resource sample: mean "
          + "\(c.sampleMeanUs.map { fmt($0, 1) } ?? "-") µs, p99 \(c.sampleP99Us.map { fmt($0, 1) } ?? "-") µs"
      )
    }
    out.append("energy is modelled (lut.json); latency is the lookup table's, scaled by each row's context")
    return out.joined(separator: "\n")
  }

  static func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
}
