import AdaBundle
import AdaBundleWriter
import AdaFormats
import AdaIO
import AdaTensor

extension Recipe {
  static let gateKeys = [
    "max-accuracy-drop", "max-latency-regression", "min-variants", "max-hypervolume-drop",
  ]

  /// `gates: {max-accuracy-drop: 0.005, max-latency-regression: 0.1, min-variants: 6,
  /// max-hypervolume-drop: 0.05}` (any subset; `BundleGates` says what each checks).
  static func decodeGates(_ v: YAMLValue) throws(AdaError) -> BundleGates? {
    guard v.exists else { return nil }
    try v.checkRecipeSection(gateKeys)
    return BundleGates(
      maxAccuracyDrop: try v["max-accuracy-drop"].optionalNumber(in: "[0, 1]") { $0 >= 0 && $0 <= 1 },
      maxLatencyRegression: try v["max-latency-regression"].optionalNumber(in: "[0, ∞)") { $0 >= 0 },
      minVariants: try v["min-variants"].optionalInt(atLeast: 1),
      maxHypervolumeDrop: try v["max-hypervolume-drop"].optionalNumber(in: "[0, 1]") { $0 >= 0 && $0 <= 1 })
  }
}
