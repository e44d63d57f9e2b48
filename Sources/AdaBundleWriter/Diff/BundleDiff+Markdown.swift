import Foundation

extension BundleDiff {
  /// A Markdown summary for a CI job's summary page: the two fronts, the gates, and every
  /// variant pair.
  public func markdown(gates: [BundleGates.Result]) -> String {
    var out = ["## adascale bundle diff", ""]
    out.append("| | old | new |")
    out.append("|---|---|---|")
    out.append("| bundle | `\(old.path)` | `\(new.path)` |")
    out.append("| variants | \(old.variants) | \(new.variants) |")
    out.append("| best accuracy | \(pct(old.bestAccuracy)) | \(pct(new.bestAccuracy)) |")
    out.append("| fastest | \(ms(old.fastestMs)) | \(ms(new.fastestMs)) |")
    out.append(
      "| hypervolume (shared box) | \(String(format: "%.4f", old.hypervolume)) | "
        + "\(String(format: "%.4f", new.hypervolume)) |")
    out.append("| source model accuracy | \(pct(old.sourceAccuracy)) | \(pct(new.sourceAccuracy)) |")
    out.append("")
    if !gates.isEmpty {
      out.append("### Gates")
      out.append("")
      out.append("| gate | | detail |")
      out.append("|---|---|---|")
      for g in gates { out.append("| `\(g.gate)` | \(g.passed ? "pass" : "**FAIL**") | \(g.message) |") }
      out.append("")
    }
    out.append("### Variants")
    out.append("")
    out.append("| old | new | matched by | accuracy | Δ points | latency ms | Δ latency | weights |")
    out.append("|---|---|---|---|---|---|---|---|")
    for p in pairs {
      let acc = [p.old, p.new].map { $0.map { pct($0.accuracy) } ?? "–" }.joined(separator: " → ")
      let lat = [p.old, p.new].map { $0.map { ms($0.latencyMs) } ?? "–" }.joined(separator: " → ")
      let size = [p.old, p.new].map { $0.map { "\($0.weightBytes / 1024) KB" } ?? "–" }.joined(
        separator: " → ")
      out.append(
        "| \(p.old?.id ?? "–") | \(p.new?.id ?? "–") | \(p.matchedBy.rawValue) | \(acc) | "
          + "\(p.accuracyChange.map { String(format: "%+.2f", $0 * 100) } ?? "–") | \(lat) | "
          + "\(p.latencyChange.map { String(format: "%+.1f %%", $0 * 100) } ?? "–") | \(size) |")
    }
    return out.joined(separator: "\n") + "\n"
  }

  private func pct(_ v: Double) -> String { String(format: "%.2f %%", v * 100) }
  private func ms(_ v: Double) -> String { String(format: "%.4f ms", v) }
}
