import AdaPipeline
import Foundation

/// The table `adascale compress` prints at the end.
enum CompressSummary {
  static func render(_ r: CompressPipeline.Result) -> String {
    let m = r.manifest
    let header = ["variant", "accuracy", "Δ points", "latency ms", "speed-up", "params", "MACs", "genome"]
    let rows = m.variants.map { v in
      [
        v.id, String(format: "%.2f%%", v.accuracy * 100),
        String(format: "%+.2f", (v.accuracy - m.source.accuracy) * 100), String(format: "%.4f", v.latencyMs),
        String(format: "%.2f×", m.source.latencyMs / v.latencyMs), "\(v.params)", "\(v.macs)",
        v.summary.isEmpty ? v.genomeKey : v.summary,
      ]
    }
    var out = [
      "bundle \(r.bundle): \(m.variants.count) variants of \(m.source.file)",
      String(
        format: "source: test accuracy %.2f%%, %.4f ms (batch-norm folded, as deployed), %d params, %d MACs",
        m.source.accuracy * 100,
        m.source.latencyMs, m.source.params, m.source.macs),
      Output.table(header: header, rows: rows),
    ]
    let fastest = m.variants.map(\.latencyMs).min() ?? 0
    let slowest = m.variants.map(\.latencyMs).max() ?? 0
    out.append(
      String(
        format: "latency span %.1f×; search: %d evaluations, hypervolume %.4f%@; total %.0f s",
        fastest > 0 ? slowest / fastest : 0, m.search.evaluations, m.search.hypervolume,
        r.report.randomSearch.map { String(format: " (random search %.4f)", $0.hypervolume) } ?? "",
        m.timings.totalSeconds))
    if let o = r.report.overhead {
      out.append(
        String(
          format: "training overhead: supernet %.0f s vs one by one %.0f s (%.1f%% less)", o.supernetSeconds,
          o.oneByOneSeconds, o.savingPercent))
    }
    out.append("report: \(r.bundle)/report.md")
    return out.joined(separator: "\n")
  }
}
