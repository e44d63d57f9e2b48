import AdaBundle
import AdaTensor
import ArgumentParser
import Foundation

/// `adascale exits`: the accuracy-vs-MACs curve of a bundle's multi-exit variants.
struct ExitsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exits",
    abstract: "Print the early-exit operating points of a bundle's variants.",
    discussion: HelpText.reflow(
      """
      A variant with early exits lets each input leave at the first exit whose confidence reaches
      that exit's threshold (docs/exits.md). For each such variant this prints its exits and, per
      operating point, the thresholds, the share of test inputs leaving at each exit, the MACs per
      input, and the validation and test accuracy against the same variant without early
      exiting. The operating point names are what `adascale run --exits` takes.

      Examples:
        adascale exits --bundle bundles/fmnist
        adascale exits --bundle bundles/fmnist --variant v03 --json
      """))

  @Option(help: "Bundle directory (written by `adascale compress`).")
  var bundle: String

  @Option(help: "Only this variant (default: every variant with exits).")
  var variant: String?

  @Flag(help: "Print JSON (the manifest's exit plans, with savings against each static variant).")
  var json = false

  func run() throws {
    let opened = try ModelBundle.open(bundle)
    let chosen: [Manifest.Variant]
    if let variant {
      _ = try opened.exitPlan(variant)  // names the variant and what the bundle has
      chosen = [try opened.variant(variant)]
    } else {
      chosen = opened.manifest.variants.filter { $0.exits != nil }
      guard !chosen.isEmpty else {
        throw AdaError(
          .missing, file: ModelBundle.path(opened.directory, ModelBundle.manifestFile),
          path: "variants[].exits",
          "no variant of the bundle has early exits",
          hint: "add an `exits:` section to the recipe (docs/exits.md) and run `adascale compress` again")
      }
    }
    let curves = chosen.map { Curve($0, dataset: opened.manifest.dataset) }
    if json {
      try Output.printJSON(curves)
      return
    }
    for c in curves {
      print(
        "\(c.variant): \(c.exits.count) exits (\(c.confidence)); without early exiting "
          + "\(pct(c.staticAccuracy)), \(c.staticMacs) MACs, \(String(format: "%.3f", c.staticLatencyMs)) ms")
      for e in c.exits {
        print(
          "  exit \(e.block) → \(e.output) (\(e.head)): \(pct(e.validationAccuracy)) alone (validation), "
            + "\(e.macs) MACs cumulative")
      }
      let rows = c.operatingPoints.map { p in
        [
          p.name, p.thresholds.map { $0.map { String(format: "%.3f", $0) } ?? "-" }.joined(separator: "/"),
          p.testExitRates.map { String(format: "%.0f", $0 * 100) }.joined(separator: "/"),
          String(Int(p.testExpectedMacs.rounded())), String(format: "%.1f", p.macsSaved * 100),
          pct(p.testAccuracy), String(format: "%+.2f", p.pointsVsStatic),
          pct(p.validationAccuracy),
          p.predictedTestAccuracy.map {
            pct($0) + (p.predictedTestAccuracySd.map { String(format: " ±%.2f", $0 * 100) } ?? "")
          } ?? "-",
          p.measuredLatencyMs.map { String(format: "%.4f", $0) } ?? "-",
          p.speedup.map { String(format: "%.2fx", $0) } ?? "-",
        ]
      }
      print(
        Output.table(
          header: [
            "point", "thresholds", "exit %", "MACs/input", "saved %", "test acc", "Δ pts", "val acc",
            "predicted",
            "ms/input", "speed-up",
          ], rows: rows))
      print("")
    }
  }

  func pct(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }

  /// One variant's curve, as printed with --json.
  struct Curve: Encodable {
    struct Point: Encodable {
      var name: String
      var kind: String
      var target: Double
      var thresholds: [Float?]
      var testExitRates: [Double]
      var testExpectedMacs: Double
      /// 1 − expected MACs / the static variant's MACs.
      var macsSaved: Double
      var testAccuracy: Double
      var validationAccuracy: Double
      /// Test accuracy minus the static variant's, in points.
      var pointsVsStatic: Double
      var measuredLatencyMs: Double?
      /// The static variant's measured ms per input over this point's, in the same loop.
      var speedup: Double?
      /// What validation predicts for the test accuracy: the static variant's test accuracy
      /// moved by the change calibration saw on validation (nil without the static figure).
      var predictedTestAccuracy: Double?
      /// The sampling standard deviation of that prediction's error, 0–1
      /// (`Manifest.ExitPlan.predictionError`; nil in bundles without `validation_swaps`).
      var predictedTestAccuracySd: Double?

      enum CodingKeys: String, CodingKey {
        case name, kind, target, thresholds, testExitRates = "test_exit_rates"
        case testExpectedMacs = "test_expected_macs", macsSaved = "macs_saved", testAccuracy = "test_accuracy"
        case validationAccuracy = "validation_accuracy", pointsVsStatic = "points_vs_static"
        case measuredLatencyMs = "measured_latency_ms", speedup
        case predictedTestAccuracy = "predicted_test_accuracy"
        case predictedTestAccuracySd = "predicted_test_accuracy_sd"
      }
    }
    var variant: String
    var file: String
    var confidence: String
    var staticAccuracy: Double
    var staticMacs: Int
    var staticLatencyMs: Double
    var exits: [Manifest.Exit]
    var operatingPoints: [Point]

    init(_ v: Manifest.Variant, dataset: Manifest.DatasetInfo) {
      let plan = v.exits!
      variant = v.id
      file = plan.file
      confidence = plan.confidence.rawValue
      staticAccuracy = v.accuracy
      staticMacs = v.macs
      staticLatencyMs = v.latencyMs
      exits = plan.exits
      operatingPoints = plan.operatingPoints.map { p in
        Point(
          name: p.name, kind: p.kind.rawValue, target: p.target, thresholds: p.thresholds,
          testExitRates: p.testExitRates, testExpectedMacs: p.testExpectedMacs,
          macsSaved: v.macs > 0 ? 1 - p.testExpectedMacs / Double(v.macs) : 0, testAccuracy: p.testAccuracy,
          validationAccuracy: p.validationAccuracy, pointsVsStatic: (p.testAccuracy - v.accuracy) * 100,
          measuredLatencyMs: p.measuredLatencyMs,
          speedup: p.measuredLatencyMs.flatMap { ms in plan.measuredStaticLatencyMs.map { $0 / ms } },
          predictedTestAccuracy: plan.predictedTestAccuracy(of: p, staticTestAccuracy: v.accuracy),
          predictedTestAccuracySd: plan.predictionError(
            of: p, validationExamples: dataset.validationExamples, testExamples: dataset.testExamples))
      }
    }

    enum CodingKeys: String, CodingKey {
      case variant, file, confidence, staticAccuracy = "static_accuracy", staticMacs = "static_macs"
      case staticLatencyMs = "static_latency_ms", exits, operatingPoints = "operating_points"
    }
  }
}
