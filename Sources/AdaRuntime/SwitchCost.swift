import AdaProfile
import AdaTensor

/// Time the adaptation loop spends between two inferences once variants are in memory: the
/// selector's decision plus the swap to the chosen variant's executor (design.md §9: well under
/// a millisecond; AdaSpring reports 6.2 ms). Microseconds.
public struct SwitchCost: Codable, Hashable, Sendable {
  public var decisions: Int
  public var switches: Int
  /// Over all decisions (select + swap).
  public var meanUs: Double
  public var p50Us: Double
  public var p99Us: Double
  public var maxUs: Double
  /// Over the decisions that switched variant (nil when none did).
  public var switchMeanUs: Double?
  public var switchP99Us: Double?
  /// One `ResourceMonitor.sample()` on this machine (every source it found), when measured.
  /// `AdaptiveModel` samples at most every `sampleInterval` (50 ms), not per decision.
  public var sampleMeanUs: Double?
  public var sampleP99Us: Double?

  /// Summarises per-decision times (µs) and which of them switched.
  public init(times: [Double], switched: [Bool]) {
    precondition(times.count == switched.count && !times.isEmpty, "one switched flag per time")
    decisions = times.count
    switches = switched.filter { $0 }.count
    let sorted = times.sorted()
    meanUs = times.reduce(0, +) / Double(times.count)
    p50Us = Self.percentile(sorted, 0.5)
    p99Us = Self.percentile(sorted, 0.99)
    maxUs = sorted.last!
    let s = zip(times, switched).filter(\.1).map(\.0).sorted()
    switchMeanUs = s.isEmpty ? nil : s.reduce(0, +) / Double(s.count)
    switchP99Us = s.isEmpty ? nil : Self.percentile(s, 0.99)
  }

  /// Nearest-rank percentile of sorted values.
  static func percentile(_ sorted: [Double], _ q: Double) -> Double {
    let rank = Int((q * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank - 1, 0), sorted.count - 1)]
  }

  enum CodingKeys: String, CodingKey {
    case decisions, switches
    case meanUs = "mean_us"
    case p50Us = "p50_us"
    case p99Us = "p99_us"
    case maxUs = "max_us"
    case switchMeanUs = "switch_mean_us"
    case switchP99Us = "switch_p99_us"
    case sampleMeanUs = "sample_mean_us"
    case sampleP99Us = "sample_p99_us"
  }
}

extension AdaptiveModel {
  /// Loads every variant, then times `decisions` rounds of select + swap with the contexts of
  /// `contexts` in turn (cycling), without the monitor; then `samples` calls of the monitor's
  /// `sample()` (this model's monitor, else one on the real `/proc` and `/sys`). The selector's
  /// state (current variant, streaks, corrections) is restored afterwards.
  public func measureSwitching(
    contexts: [DeviceContext], decisions: Int, samples: Int = 1000
  ) throws(AdaError) -> SwitchCost {
    precondition(!contexts.isEmpty && decisions > 0, "need contexts and at least one decision")
    for v in selector.variants { try swap(to: v.id) }
    let saved = selector
    defer { selector = saved }
    var times: [Double] = []
    var switched: [Bool] = []
    times.reserveCapacity(decisions)
    switched.reserveCapacity(decisions)
    for i in 0..<decisions {
      let context = contexts[i % contexts.count]
      let start = ResourceMonitor.monotonicSeconds()
      let d = selector.select(context)
      try swap(to: d.variant)
      times.append((ResourceMonitor.monotonicSeconds() - start) * 1e6)
      switched.append(d.switched)
    }
    var cost = SwitchCost(times: times, switched: switched)
    if samples > 0 {
      var m = monitor ?? ResourceMonitor()
      let sampleTimes = (0..<samples).map { _ in
        let start = ResourceMonitor.monotonicSeconds()
        _ = m.sample()
        return (ResourceMonitor.monotonicSeconds() - start) * 1e6
      }.sorted()
      cost.sampleMeanUs = sampleTimes.reduce(0, +) / Double(samples)
      cost.sampleP99Us = SwitchCost.percentile(sampleTimes, 0.99)
    }
    return cost
  }
}
