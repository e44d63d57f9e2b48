import AdaBundle
import AdaTensor

/// Whether and how `AdaptiveModel` uses the early exits of the bundle's variants
/// (docs/runtime.md, "Early exits").
///
/// - `off`: every variant runs its static file; exit plans are ignored.
/// - `auto`: each (variant, operating point) is a candidate of the selector, beside the variant
///   without early exits, so under contention it moves to cheaper thresholds as well as to
///   smaller variants.
/// - `fixed(name)`: the operating point `name` wherever a variant's plan has it; a variant whose
///   plan lacks it (or that has no plan) runs without early exits.
///
///     ExitMode(parsing: "auto")        // .auto
///     ExitMode(parsing: "drop-0.5")    // .fixed("drop-0.5")
public enum ExitMode: Hashable, Sendable, CustomStringConvertible {
  case off
  case auto
  case fixed(String)

  /// `off`, `auto`, or an operating point's name.
  public init(parsing text: String) {
    switch text {
    case "off": self = .off
    case "auto": self = .auto
    default: self = .fixed(text)
    }
  }

  public var description: String {
    switch self {
    case .off: "off"
    case .auto: "auto"
    case .fixed(let name): name
    }
  }

  /// Throws when `bundle` cannot honour this mode: a fixed operating point that no variant's
  /// plan has (the error lists the ones it has), or that is asked of a bundle without exits.
  /// (The plans themselves are checked by `ModelBundle.open`: thresholds in [0, 1], one per
  /// exit, the multi-exit file present.)
  public func check(against bundle: ModelBundle) throws(AdaError) {
    guard case .fixed(let name) = self else { return }
    let manifest = ModelBundle.path(bundle.directory, ModelBundle.manifestFile)
    let plans = bundle.manifest.variants.compactMap(\.exits)
    guard !plans.isEmpty else {
      throw AdaError(
        .invalidValue, file: manifest, path: "exits",
        "operating point '\(name)' asked for, but no variant of the bundle has early exits",
        hint: "run this bundle with exits off or auto")
    }
    guard plans.contains(where: { $0.operatingPoint(named: name) != nil }) else {
      var names: [String] = []
      for p in plans.flatMap(\.operatingPoints) where !names.contains(p.name) { names.append(p.name) }
      throw AdaError(
        .invalidValue, file: manifest, path: "exits",
        "no operating point '\(name)'; the bundle has: \(names.joined(separator: ", "))",
        hint: "use one of those, auto (the selector picks) or off")
    }
  }
}
