import AdaBundle
import Foundation

/// The report's sections built from the lookup table and the search record.
extension Report {
  /// For each device × context: the most accurate feasible variant (ties: the faster) and the
  /// fastest feasible one (ties: the more accurate).
  static func bestPerContext(_ m: Manifest, _ lut: LookupTable) -> [String] {
    var rows: [[String]] = []
    for device in m.devices {
      for context in m.contexts.map(\.name) {
        let candidates = lut.rows.filter { $0.device == device && $0.context == context }
        guard !candidates.isEmpty else { continue }
        let feasible = candidates.filter(\.feasible)
        var row = [device, "`\(cell(context))`", candidates[0].source]
        if let best = mostAccurate(feasible), let fast = fastest(feasible) {
          row += [describe(best), describe(fast)]
        } else {
          row += ["no feasible variant", "no feasible variant"]
        }
        rows.append(row.map(cell))
      }
    }
    var out = ["## Best variant per device and context", ""]
    guard !rows.isEmpty else { return out + ["The lookup table has no rows.", ""] }
    out += table(["device", "context", "latency source", "most accurate", "fastest"], numeric: [], rows)
    return out + [
      "",
      "Among the variants that fit the context's memory (`lut.json`, `feasible`). Host rows are "
        + "measured at the nominal context and scaled to the others; other devices are modelled; "
        + "energy is always modelled.",
      "",
    ]
  }

  static func mostAccurate(_ rows: [LookupTable.Row]) -> LookupTable.Row? {
    rows.min { ($1.accuracy, $0.latencyMs, $0.variant) < ($0.accuracy, $1.latencyMs, $1.variant) }
  }

  static func fastest(_ rows: [LookupTable.Row]) -> LookupTable.Row? {
    rows.min { ($0.latencyMs, $1.accuracy, $0.variant) < ($1.latencyMs, $0.accuracy, $1.variant) }
  }

  /// `v03: 90.12 %, 0.412 ms, 1.21 mJ`.
  static func describe(_ row: LookupTable.Row) -> String {
    "`\(row.variant)`: \(percent(row.accuracy)), \(ms(row.latencyMs)) ms, \(significant(row.energyMj)) mJ"
  }

  /// Hypervolume per generation, and the comparison with random search when there is one.
  static func searchSection(_ m: Manifest, _ r: ReportData) -> [String] {
    var out = [
      "## Search", "",
      "\(m.search.algorithm): \(grouped(m.search.evaluations)) evaluations, \(m.search.generations) "
        + "generations, final front of \(m.search.paretoSize), hypervolume \(hypervolume(m.search.hypervolume)).",
      "",
    ]
    if !r.history.isEmpty {
      out += table(
        ["generation", "evaluations", "front size", "hypervolume"], numeric: [0, 1, 2, 3],
        r.history.map {
          ["\($0.generation)", grouped($0.evaluations), "\($0.frontSize)", hypervolume($0.hypervolume)]
        })
      out.append("")
    }
    if let random = r.randomSearch {
      let ratio =
        random.hypervolume > 0
        ? String(format: " (%.3f× random's)", m.search.hypervolume / random.hypervolume) : ""
      out += [
        "Against random search: \(m.search.algorithm) reached hypervolume \(hypervolume(m.search.hypervolume)) "
          + "with \(grouped(m.search.evaluations)) evaluations\(ratio); random search reached "
          + "\(hypervolume(random.hypervolume)) with \(grouped(random.evaluations)) evaluations.",
        "",
      ]
    }
    return out
  }

  /// Supernet training versus fine-tuning each variant on its own.
  static func overheadSection(_ r: ReportData) -> [String] {
    guard let o = r.overhead else { return [] }
    let verb = o.savingPercent >= 0 ? "less" : "more"
    return [
      "## Training overhead", "",
      "One supernet run took \(duration(o.supernetSeconds)); fine-tuning the variants one by one "
        + "took \(duration(o.oneByOneSeconds)): \(String(format: "%.2f", abs(o.savingPercent))) % \(verb) "
        + "training time (the paper reports 66.89 % less).",
      "",
    ]
  }

  /// Four decimals.
  static func hypervolume(_ v: Double) -> String { String(format: "%.4f", v) }
}
