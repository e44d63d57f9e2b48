import AdaBundleWriter
import AdaRuntime
import Foundation

/// The human-readable form of a `LiveReplay.Report`.
enum ReplayReport {
  static func text(_ r: LiveReplay.Report) -> String {
    var lines: [String] = []
    let percentile = r.sloPercentile.map { String(format: " at p%.0f", $0 * 100) } ?? ""
    lines.append(
      String(
        format: "trace %@: %d slots in %.1f s (speed %.1f×), batch %d, SLO %.3f ms%@",
        r.trace, r.slots, r.seconds, r.speed, r.batch, r.sloMs, percentile))
    lines.append(
      "injected, not emulated: " + r.injected.joined(separator: ", ")
        + (r.deviceMemoryMB.map { String(format: "; emulated device memory %.0f MB", $0) } ?? ""))
    let header = [
      "policy", "late %", "sim late %", "p50 ms", "p95 ms", "p99 ms", "accuracy", "sim acc", "energy J",
      "switches", "mem viol",
    ]
    func pct(_ v: Double?) -> String { v.map { String(format: "%.1f", $0 * 100) } ?? "-" }
    func row(_ o: LiveReplay.Outcome) -> [String] {
      [
        o.policy, pct(o.lateRate), pct(o.simulatedLateRate), String(format: "%.3f", o.p50Ms),
        String(format: "%.3f", o.p95Ms), String(format: "%.3f", o.p99Ms),
        pct(o.accuracy ?? o.expectedAccuracy),
        pct(o.simulatedAccuracy), String(format: "%.3f", o.energyJ), String(o.switches),
        String(o.memoryViolations),
      ]
    }
    lines.append(Output.table(header: header, rows: [row(r.adaptive)] + r.fixed.map(row)))
    let ran = r.adaptive.ran.sorted { $0.key < $1.key }.map {
      "\($0.key) \($0.value) (\(r.adaptive.lateRan[$0.key] ?? 0) late)"
    }
    lines.append("adaptive ran: " + ran.joined(separator: ", "))
    let shares = r.rows.compactMap { row in
      row.measuredShare.map { abs($0 - row.targetShare) }
    }
    if !shares.isEmpty {
      lines.append(
        String(
          format: "CPU share measured vs asked: mean |difference| %.2f over %d rows",
          shares.reduce(0, +) / Double(shares.count), shares.count))
    }
    if let rss = r.peakRssMB { lines.append(String(format: "peak RSS of the replay %.0f MB", rss)) }
    if r.interrupted { lines.append("interrupted: the figures cover the slots run so far") }
    return lines.joined(separator: "\n")
  }
}
