import AdaBundle
import Foundation

/// `exits-<id>.svg`: test accuracy (%) against MACs per input (millions) for a variant with
/// early exits — one point per operating point (expected MACs on the test split), the static
/// variants of the bundle on the same axes (their MACs, every input run to the end), and the
/// source model. Drawn with `ParetoPlot`, so the staircase is each series' front.
public enum ExitPlot {
  /// The plot for `variant`, which must have an exit plan (an empty plot otherwise).
  public static func svg(variant: Manifest.Variant, manifest: Manifest) -> String {
    let millions = 1e-6
    let statics = manifest.variants.map {
      ParetoPlot.Point(label: $0.id, latencyMs: Double($0.macs) * millions, accuracy: $0.accuracy)
    }
    let points = (variant.exits?.operatingPoints ?? []).map {
      ParetoPlot.Point(label: $0.name, latencyMs: $0.testExpectedMacs * millions, accuracy: $0.testAccuracy)
    }
    let source = ParetoPlot.Point(
      label: "source", latencyMs: Double(manifest.source.macs) * millions, accuracy: manifest.source.accuracy)
    return ParetoPlot.svg(
      title: "\(variant.id) with early exits: accuracy vs expected MACs (test split)",
      series: [
        ParetoPlot.Series(name: "\(variant.id) + exits", points: points),
        ParetoPlot.Series(name: "static variants", points: statics),
      ],
      source: source, xLabel: "MACs per input", xUnit: "millions")
  }
}
