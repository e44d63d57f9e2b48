import AdaFormats
import AdaIO
import AdaTensor

extension Recipe {
  /// Hard limits a variant must meet to be emitted (`constraints:`); nil = no limit. They are
  /// checked against the search's predictions, per device and context.
  public struct Constraints: Codable, Hashable, Sendable {
    /// Lowest acceptable validation accuracy, in (0, 1].
    public var minAccuracy: Double?
    /// Largest acceptable accuracy loss versus the source model, absolute, in [0, 1]. With
    /// `minAccuracy` too, a variant must satisfy both.
    public var maxAccuracyDrop: Double?
    /// Largest predicted latency in milliseconds, > 0.
    public var maxLatencyMs: Double?
    /// Largest peak memory (weights + live activations) in megabytes, > 0.
    public var maxMemoryMB: Double?

    public init(
      minAccuracy: Double? = nil, maxAccuracyDrop: Double? = nil, maxLatencyMs: Double? = nil,
      maxMemoryMB: Double? = nil
    ) {
      self.minAccuracy = minAccuracy
      self.maxAccuracyDrop = maxAccuracyDrop
      self.maxLatencyMs = maxLatencyMs
      self.maxMemoryMB = maxMemoryMB
    }

    static let keys = ["min-accuracy", "max-accuracy-drop", "max-latency-ms", "max-memory-mb"]

    static func decode(_ v: YAMLValue, _ context: DecodingContext) throws(AdaError) -> Constraints {
      try v.checkRecipeSection(keys)
      var c = Constraints()
      let minAccuracy = v["min-accuracy"]
      if minAccuracy.exists {
        let a = try minAccuracy.double()
        guard a.isFinite, a > 0, a <= 1 else {
          throw minAccuracy.error(
            "expected an accuracy in (0, 1] (a fraction: 0.9 for 90 %), found \(format(a))"
              + (a >= 2 && a <= 100 ? "; write \(format(a / 100)) for \(format(a)) %" : ""))
        }
        c.minAccuracy = a
      }
      c.maxAccuracyDrop = try v["max-accuracy-drop"].optionalNumber(in: "[0, 1]") { $0 >= 0 && $0 <= 1 }
      c.maxLatencyMs = try v["max-latency-ms"].optionalNumber(in: "(0, ∞)") { $0 > 0 }
      c.maxMemoryMB = try v["max-memory-mb"].optionalNumber(in: "(0, ∞)") { $0 > 0 }
      return c
    }
  }
}
