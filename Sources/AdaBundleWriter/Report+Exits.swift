import AdaBundle
import Foundation

extension Report {
  /// `## Early exits`: per variant with an exit plan, its heads and one row per operating point
  /// (test-split figures against the same variant without early exiting), and its plot.
  static func exitsSection(_ m: Manifest) -> [String] {
    let withExits = m.variants.filter { $0.exits != nil }
    guard !withExits.isEmpty else { return [] }
    var out = [
      "## Early exits", "",
      "Each input leaves at the first exit whose confidence reaches that exit's threshold "
        + "(docs/exits.md). Thresholds were fitted on the validation split; the figures below are "
        + "on the test split, against the same variant without early exiting (its own accuracy, "
        + "MACs and measured batch-1 latency). `–`: the exit is not used at that operating point. "
        + "*test − predicted*: the test accuracy against the one validation predicted (the static "
        + "variant's test accuracy moved by the change seen on validation), in points, with the "
        + "prediction's sampling standard deviation (*sd*, from the share of validation inputs the "
        + "point answers differently from the static variant, and both splits' sizes).",
      "",
    ]
    let (nv, nt) = (m.dataset.validationExamples, m.dataset.testExamples)
    let errors = withExits.flatMap { v in
      v.exits!.operatingPoints.compactMap { p in
        v.exits!.predictedTestAccuracy(of: p, staticTestAccuracy: v.accuracy).map {
          (
            error: abs(p.testAccuracy - $0), at: "`\(v.id)` `\(cell(p.name))`",
            sd: v.exits!.predictionError(of: p, validationExamples: nv, testExamples: nt)
          )
        }
      }
    }
    if let worst = errors.max(by: { $0.error < $1.error }) {
      var line = String(
        format: "Validation predicted the test accuracy within %.2f points at all %d operating points "
          + "(the largest error: %@).", worst.error * 100, errors.count, worst.at)
      let sds = errors.compactMap(\.sd)
      if sds.count == errors.count, let low = sds.min(), let high = sds.max() {
        let z = errors.map { $0.error / max($0.sd!, 1e-12) }
        let rms = (z.map { $0 * $0 }.reduce(0, +) / Double(z.count)).squareRoot()
        line += String(
          format: " The predictions' sampling standard deviations are %.2f–%.2f points (%@ validation "
            + "and %@ test examples); the largest error is %.2f of its point's, the RMS %.2f (sampling "
            + "alone would make it about 1).", low * 100, high * 100, grouped(nv), grouped(nt),
          z.max() ?? 0, rms)
      }
      out += [line, ""]
    }
    for v in withExits {
      let plan = v.exits!
      let heads = plan.exits.map { e in
        "`\(cell(e.block))` (\(e.head), \(percent(e.validationAccuracy)) alone on validation, "
          + "\(grouped(e.macs)) MACs = \(percentOf(Double(e.macs), v.macs)) of the variant)"
      }
      out += [
        "### `\(v.id)`: \(plan.exits.count) exit\(plan.exits.count == 1 ? "" : "s") (\(plan.confidence.rawValue))",
        "", "Exits: " + heads.joined(separator: "; ") + ".", "",
      ]
      let rows = plan.operatingPoints.map { p in
        [
          "`\(cell(p.name))`",
          p.thresholds.map { $0.map { String(format: "%.3f", $0) } ?? "–" }.joined(separator: " / "),
          p.testExitRates.map { String(format: "%.0f", $0 * 100) }.joined(separator: " / "),
          grouped(Int(p.testExpectedMacs.rounded())),
          percentOf(Double(v.macs) - p.testExpectedMacs, v.macs),
          percent(p.testAccuracy), points(p.testAccuracy - v.accuracy),
          plan.predictedTestAccuracy(of: p, staticTestAccuracy: v.accuracy).map {
            points(p.testAccuracy - $0)
              + (plan.predictionError(of: p, validationExamples: nv, testExamples: nt).map {
                String(format: " (sd %.2f)", $0 * 100)
              } ?? "")
          } ?? "–",
          p.measuredLatencyMs.map(ms) ?? "–",
          p.measuredLatencyMs.map {
            $0 > 0 ? String(format: "%.2f×", (plan.measuredStaticLatencyMs ?? v.latencyMs) / $0) : "–"
          } ?? "–",
        ]
      }
      out += table(
        [
          "operating point", "thresholds", "exit rates %", "MACs / input", "MACs saved", "accuracy",
          "Δ (points)", "test − predicted", "ms / input", "speed-up",
        ], numeric: Set(3...9), rows)
      out += [
        "",
        "Static `\(v.id)`: \(percent(v.accuracy)), \(grouped(v.macs)) MACs, \(ms(v.latencyMs)) ms"
          + (plan.measuredStaticLatencyMs.map {
            " (\(ms($0)) ms per input in the loop that timed the operating points: the speed-ups are against it)"
          } ?? "") + ". "
          + "Plot: [\(BundleWriter.exitPlotFileName(id: v.id))](\(BundleWriter.exitPlotFileName(id: v.id))).",
        "",
      ]
    }
    return out
  }

  /// `part / whole` as a percentage, e.g. `43.1 %`.
  static func percentOf(_ part: Double, _ whole: Int) -> String {
    whole > 0 ? String(format: "%.1f %%", part / Double(whole) * 100) : "–"
  }
}
