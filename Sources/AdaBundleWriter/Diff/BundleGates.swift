/// What a new bundle must not do against the last one, checked on a `BundleDiff` (recipe key
/// `gates:` or `adascale diff` options; docs/ci.md). An unset gate is not checked.
///
/// | gate | fails when |
/// |---|---|
/// | `max-accuracy-drop` | the best accuracy, or any paired variant's, falls by more than this (0.005: half a point) |
/// | `max-latency-regression` | any paired variant's measured latency grows by more than this fraction (0.1: 10 %) |
/// | `min-variants` | the new bundle has fewer variants |
/// | `max-hypervolume-drop` | the front's hypervolume (shared box) falls by more than this fraction |
public struct BundleGates: Codable, Hashable, Sendable {
  public var maxAccuracyDrop: Double?
  public var maxLatencyRegression: Double?
  public var minVariants: Int?
  public var maxHypervolumeDrop: Double?

  public init(
    maxAccuracyDrop: Double? = nil, maxLatencyRegression: Double? = nil, minVariants: Int? = nil,
    maxHypervolumeDrop: Double? = nil
  ) {
    self.maxAccuracyDrop = maxAccuracyDrop
    self.maxLatencyRegression = maxLatencyRegression
    self.minVariants = minVariants
    self.maxHypervolumeDrop = maxHypervolumeDrop
  }

  /// Later settings win where set.
  public func overridden(by other: BundleGates) -> BundleGates {
    BundleGates(
      maxAccuracyDrop: other.maxAccuracyDrop ?? maxAccuracyDrop,
      maxLatencyRegression: other.maxLatencyRegression ?? maxLatencyRegression,
      minVariants: other.minVariants ?? minVariants,
      maxHypervolumeDrop: other.maxHypervolumeDrop ?? maxHypervolumeDrop)
  }

  public var isEmpty: Bool { self == BundleGates() }

  /// One gate's verdict.
  public struct Result: Codable, Hashable, Sendable {
    /// The recipe key: `max-accuracy-drop`, …
    public var gate: String
    public var passed: Bool
    public var limit: Double
    /// The worst value seen, in the gate's unit.
    public var value: Double
    public var message: String
  }

  /// Every set gate on `diff`, in the table's order.
  public func evaluate(_ diff: BundleDiff) -> [Result] {
    var results: [Result] = []
    if let limit = maxAccuracyDrop {
      var worst = (drop: diff.old.bestAccuracy - diff.new.bestAccuracy, what: "the best accuracy")
      for p in diff.pairs {
        guard let change = p.accuracyChange, -change > worst.drop else { continue }
        worst = (-change, "\(p.old!.id) → \(p.new!.id) (\(p.matchedBy.rawValue))")
      }
      results.append(
        Result(
          gate: "max-accuracy-drop", passed: worst.drop <= limit + 1e-12, limit: limit, value: worst.drop,
          message: String(
            format: "largest accuracy drop %.2f points (%@), limit %.2f", worst.drop * 100, worst.what,
            limit * 100)))
    }
    if let limit = maxLatencyRegression {
      let paired = diff.pairs.filter { $0.latencyChange != nil }
      let worst = paired.max { $0.latencyChange! < $1.latencyChange! }
      let value = worst?.latencyChange ?? 0
      let what = worst.map { "\($0.old!.id) → \($0.new!.id)" } ?? "no paired variants"
      results.append(
        Result(
          gate: "max-latency-regression", passed: value <= limit + 1e-12, limit: limit, value: value,
          message: String(
            format: "largest latency regression %+.1f %% (%@), limit %.1f %%", value * 100, what, limit * 100)
        ))
    }
    if let limit = minVariants {
      results.append(
        Result(
          gate: "min-variants", passed: diff.new.variants >= limit, limit: Double(limit),
          value: Double(diff.new.variants),
          message: "\(diff.new.variants) variants, at least \(limit) required"))
    }
    if let limit = maxHypervolumeDrop {
      let drop = diff.old.hypervolume > 0 ? 1 - diff.new.hypervolume / diff.old.hypervolume : 0
      results.append(
        Result(
          gate: "max-hypervolume-drop", passed: drop <= limit + 1e-12, limit: limit, value: drop,
          message: String(
            format: "hypervolume %.4f → %.4f (%+.1f %%), largest drop allowed %.1f %%", diff.old.hypervolume,
            diff.new.hypervolume, -drop * 100, limit * 100)))
    }
    return results
  }
}
