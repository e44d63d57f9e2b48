import AdaIO
import AdaNN
import AdaTensor
import Foundation

extension ModelBundle {
  /// Variant `id`'s early exits; an error naming the variant when it has none.
  public func exitPlan(_ id: String) throws(AdaError) -> Manifest.ExitPlan {
    let v = try variant(id)
    guard let plan = v.exits else {
      let with = manifest.variants.filter { $0.exits != nil }.map(\.id)
      throw AdaError(
        .missing, file: Self.path(directory, Self.manifestFile),
        path: "variants[\(manifest.variants.firstIndex { $0.id == id } ?? 0)].exits",
        "variant '\(id)' has no early exits"
          + (with.isEmpty
            ? "; the bundle has none" : " (variants with exits: \(with.joined(separator: ", ")))"),
        hint: with.isEmpty ? "add an `exits:` section to the recipe and run `adascale compress` again" : nil)
    }
    return plan
  }

  /// The operating point `name` of variant `id`; an error listing the ones it has otherwise.
  public func operatingPoint(_ name: String, variant id: String) throws(AdaError) -> Manifest.OperatingPoint {
    let plan = try exitPlan(id)
    guard let point = plan.operatingPoint(named: name) else {
      throw AdaError(
        .invalidValue, file: Self.path(directory, Self.manifestFile), path: "exits.operating_points",
        "variant '\(id)' has no operating point '\(name)'; it has "
          + plan.operatingPoints.map(\.name).joined(separator: ", "))
    }
    return point
  }

  /// Reads variant `id`'s multi-exit Keras file (exits in depth order, its own output last).
  public func loadExitVariant(_ id: String) throws(AdaError) -> (
    model: Model, quantized: QuantizedWeights, plan: Manifest.ExitPlan
  ) {
    let plan = try exitPlan(id)
    let file = Self.path(directory, plan.file)
    let (model, quantized) = try KerasModelReader.loadWithQuantized(path: file)
    guard plan.matches(outputs: model.graph.outputs) else {
      throw AdaError(
        .badFormat, file: file, path: "outputs",
        "the model's outputs \(model.graph.outputs) do not match the manifest's exits \(plan.exits.map(\.output)) "
          + "followed by the variant's own output")
    }
    return (model, quantized, plan)
  }

  /// Checks a variant's exit plan: the file present, thresholds in [0, 1] (or null), one per
  /// exit (`ExitPlan.checkThresholds`), rates and accuracies in range, unique operating point names.
  func validateExits(_ plan: Manifest.ExitPlan, at: String, manifestPath: String) throws(AdaError) {
    let file = Self.path(directory, plan.file)
    guard FileManager.default.fileExists(atPath: file) else {
      throw AdaError(
        .fileNotFound, file: file, path: "\(manifestPath): \(at).exits.file",
        "the variant's multi-exit file is listed in the manifest but missing",
        hint: "the bundle is incomplete; copy the whole directory or run `adascale compress` again")
    }
    guard !plan.exits.isEmpty else {
      throw AdaError(.missing, file: manifestPath, path: "\(at).exits.exits", "an exit plan lists no exits")
    }
    for (j, e) in plan.exits.enumerated() {
      try check(
        e.validationAccuracy, "\(at).exits.exits[\(j)].validation_accuracy", manifestPath,
        "an accuracy in [0, 1]"
      ) { $0 >= 0 && $0 <= 1 }
      try check(
        e.predictedLatencyMs, "\(at).exits.exits[\(j)].predicted_latency_ms", manifestPath, "≥ 0"
      ) {
        $0 >= 0
      }
    }
    try plan.checkThresholds(file: manifestPath, at: at)
    var names = Set<String>()
    for (k, p) in plan.operatingPoints.enumerated() {
      let here = "\(at).exits.operating_points[\(k)]"
      guard names.insert(p.name).inserted else {
        throw AdaError(.invalidValue, file: manifestPath, path: "\(here).name", "'\(p.name)' appears twice")
      }
      for (rates, key) in [(p.exitRates, "exit_rates"), (p.testExitRates, "test_exit_rates")] {
        guard rates.count == plan.exits.count + 1 else {
          throw AdaError(
            .badShape, file: manifestPath, path: "\(here).\(key)",
            "expected a rate per exit and one for the final output (\(plan.exits.count + 1)), found \(rates.count)"
          )
        }
        for (j, r) in rates.enumerated() {
          try check(r, "\(here).\(key)[\(j)]", manifestPath, "a share in [0, 1]") {
            $0 >= 0 && $0 <= 1
          }
        }
      }
      try check(
        p.validationAccuracy, "\(here).validation_accuracy", manifestPath, "an accuracy in [0, 1]"
      ) {
        $0 >= 0 && $0 <= 1
      }
      try check(p.testAccuracy, "\(here).test_accuracy", manifestPath, "an accuracy in [0, 1]") {
        $0 >= 0 && $0 <= 1
      }
      if let swaps = p.validationSwaps {
        try check(swaps, "\(here).validation_swaps", manifestPath, "a share in [0, 1]") { $0 >= 0 && $0 <= 1 }
      }
      try check(p.expectedMacs, "\(here).expected_macs", manifestPath, "≥ 0") { $0 >= 0 }
      try check(p.expectedLatencyMs, "\(here).expected_latency_ms", manifestPath, "≥ 0") { $0 >= 0 }
    }
  }
}
