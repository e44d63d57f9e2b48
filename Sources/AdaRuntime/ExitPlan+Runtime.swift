import AdaBundle
import AdaTensor
import Foundation

extension ModelBundle {
  /// Checks what the runtime relies on in every variant's exit plan; errors name the manifest
  /// and the field (`variants[1].exits.operating_points[0].thresholds[2]`): the multi-exit file
  /// exists, the plan has exits, every operating point has one threshold per exit, each nil or
  /// in [0, 1], a test accuracy in [0, 1] and an expected latency > 0 ms, and names are unique.
  public func checkExitPlans() throws(AdaError) {
    let manifest = Self.path(directory, Self.manifestFile)
    for (i, v) in self.manifest.variants.enumerated() {
      guard let plan = v.exits else { continue }
      let at = "variants[\(i)].exits"
      func fail(_ kind: AdaError.Kind, _ path: String, _ message: String) -> AdaError {
        AdaError(kind, file: manifest, path: "\(at).\(path)", message)
      }
      guard !plan.exits.isEmpty else { throw fail(.missing, "exits", "an exit plan with no exits") }
      let file = Self.path(directory, plan.file)
      guard FileManager.default.fileExists(atPath: file) else {
        throw AdaError(
          .fileNotFound, file: file, path: "\(manifest): \(at).file",
          "variant '\(v.id)' has an exit plan but its multi-exit file is missing",
          hint: "the bundle is incomplete; copy the whole directory or run `adascale compress` again")
      }
      var names = Set<String>()
      for (j, p) in plan.operatingPoints.enumerated() {
        let op = "operating_points[\(j)]"
        guard names.insert(p.name).inserted else {
          throw fail(.invalidValue, "\(op).name", "operating point '\(p.name)' appears twice")
        }
        guard p.thresholds.count == plan.exits.count else {
          throw fail(
            .invalidValue, "\(op).thresholds",
            "expected one threshold per exit (\(plan.exits.count)), found \(p.thresholds.count)")
        }
        for (k, t) in p.thresholds.enumerated() {
          guard let t else { continue }
          guard t.isFinite else {
            throw fail(.nonFinite, "\(op).thresholds[\(k)]", "expected a confidence in [0, 1], found \(t)")
          }
          guard t >= 0 && t <= 1 else {
            throw fail(.invalidValue, "\(op).thresholds[\(k)]", "expected a confidence in [0, 1], found \(t)")
          }
        }
        guard p.testAccuracy.isFinite, p.testAccuracy >= 0, p.testAccuracy <= 1 else {
          throw fail(
            .invalidValue, "\(op).test_accuracy", "expected an accuracy in [0, 1], found \(p.testAccuracy)")
        }
        guard p.expectedLatencyMs.isFinite, p.expectedLatencyMs > 0 else {
          throw fail(
            .invalidValue, "\(op).expected_latency_ms",
            "expected a latency > 0 ms, found \(p.expectedLatencyMs)")
        }
      }
    }
  }
}

extension Manifest.ExitPlan {
  /// MACs of one input that leaves at `exit` (`exits.count`: the final output) when only the
  /// exits with a threshold run their heads: the backbone up to that exit plus the heads of the
  /// enabled exits up to it.
  ///
  ///     exit k:  macs(k)    − Σ headMacs(j) for disabled j < k
  ///     final:   finalMacs  − Σ headMacs(j) for every disabled j
  public func macs(exit: Int, thresholds: [Float?]) -> Int {
    precondition(thresholds.count == exits.count, "one threshold per exit")
    let total = exit < exits.count ? exits[exit].macs : finalMacs
    let skipped = (0..<min(exit, exits.count)).filter { thresholds[$0] == nil }
    return total - skipped.reduce(0) { $0 + exits[$1].headMacs }
  }

  /// Thresholds with every exit disabled: the variant's own output only.
  public var noExits: [Float?] { Array(repeating: nil, count: exits.count) }
}
