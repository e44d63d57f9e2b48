import AdaBundle

/// `report.md`: what was searched and how long it took, the source model, the emitted variants,
/// the best variant per device and context, the search's progress, the training-overhead
/// comparison, and the Pareto plots. Deterministic: the same contents give the same bytes (the
/// only time in it is the manifest's `created_at`).
public enum Report {
  /// The whole report as Markdown.
  public static func markdown(_ contents: BundleContents) -> String {
    let m = contents.manifest
    var out = [
      "# \(m.recipe.name): adascale bundle", "",
      "Written by adascale \(m.toolVersion) at \(m.createdAt) (bundle format \(m.formatVersion)), "
        + "recipe `\(m.recipe.file)`, seed \(m.seed).", "",
    ]
    out += setup(m)
    out += budgetSection(m)
    out += sourceSection(m, contents.report)
    out += variantTable(m, contents.report)
    out += exitsSection(m)
    out += bestPerContext(m, contents.lut)
    out += searchSection(m, contents.report)
    out += overheadSection(contents.report)
    out += plots(m)
    if !contents.report.notes.isEmpty {
      out += ["## Notes", ""] + contents.report.notes.map { "- \($0)" } + [""]
    }
    return out.joined(separator: "\n")
  }

  /// What was searched, on what, and how long each stage took.
  static func setup(_ m: Manifest) -> [String] {
    let t = m.timings
    let d = m.dataset
    var out = [
      "## What was searched", "",
      "- Dataset: \(d.name) (\(grouped(d.trainExamples)) train, \(grouped(d.validationExamples)) validation, "
        + "\(grouped(d.testExamples)) test examples).",
      "- Search: \(m.search.algorithm), \(grouped(m.search.evaluations)) evaluations over "
        + "\(m.search.generations) generations; \(m.search.paretoSize) non-dominated configurations, "
        + "\(m.variants.count) emitted.",
      "- Host: \(m.host.cpu), \(m.host.cores) cores, \(m.host.blas), \(m.host.threads) BLAS "
        + "thread\(m.host.threads == 1 ? "" : "s") for latency measurement.",
      "- Devices: \(m.devices.joined(separator: ", ")). Contexts: "
        + m.contexts.map { "`\($0.name)` (\($0.context.description))" }.joined(separator: ", ") + ".",
      "",
    ]
    out += table(
      ["stage", "time"], numeric: [1],
      [
        ["baseline training", duration(t.baselineSeconds)],
        ["supernet training", duration(t.supernetSeconds)],
        ["search", duration(t.searchSeconds)],
        ["emit (materialise, fine-tune, profile, write)", duration(t.emitSeconds)],
        ["total", duration(t.totalSeconds)],
      ])
    return out + [""]
  }

  static func sourceSection(_ m: Manifest, _ r: ReportData) -> [String] {
    let s = m.source
    return [
      "## Source model", "",
      "`\(s.file)` (sha256 `\(s.sha256.prefix(12))…`): \(grouped(s.params)) parameters, "
        + "\(grouped(s.macs)) MACs, test accuracy \(percent(r.sourceAccuracy)), "
        + "\(ms(r.sourceLatencyMs)) ms per batch-1 inference on the host, measured as deployed "
        + "(batch-norm folded into the convolutions, the same runtime as the variants).",
      "",
    ]
  }

  /// One row per emitted variant, in manifest order.
  static func variantTable(_ m: Manifest, _ r: ReportData) -> [String] {
    let header = [
      "id", "genome", "accuracy", "Δ (points)", "latency ms", "speed-up", "predicted ms", "error",
      "params", "MACs", "weights", "peak memory", "energy mJ",
    ]
    let rows = m.variants.map { v in
      [
        "`\(cell(v.id))`", cell(v.summary.isEmpty ? shortGenome(v.genome) : v.summary), percent(v.accuracy),
        points(v.accuracy - r.sourceAccuracy),
        ms(v.latencyMs), v.latencyMs > 0 ? String(format: "%.2f×", r.sourceLatencyMs / v.latencyMs) : "–",
        ms(v.predictedLatencyMs), relativeError(v.predictedLatencyMs, v.latencyMs), grouped(v.params),
        grouped(v.macs), bytes(v.weightBytes), bytes(v.peakMemoryBytes), significant(v.energyMj),
      ]
    }
    return ["## Variants", ""] + table(header, numeric: Set(2...12), rows) + [
      "",
      "Accuracy is on the test split with exactly the weights in `variants/<id>.h5`; Δ and speed-up "
        + "are against the source model as deployed (batch-norm folded); latency is measured at batch 1 on the host, the prediction "
        + "sums the per-op table (`ops-lut.json`); energy is modelled.",
      "",
    ]
  }

  /// `pareto.svg` and the per-device plots.
  static func plots(_ m: Manifest) -> [String] {
    var out = [
      "## Accuracy vs latency", "", "![Accuracy vs latency per device](\(BundleWriter.paretoFileName))", "",
    ]
    if !m.devices.isEmpty {
      out.append(
        "Per device, one line per context: "
          + m.devices.map { "[\($0)](\(BundleWriter.paretoFileName(device: $0)))" }.joined(separator: ", ")
          + ".")
      out.append("")
    }
    return out
  }
}
