import Foundation

/// Latency of one call: how many calls were timed, the mean and the per-call variance, in
/// milliseconds. Sums of independent latencies add means and variances (`+`).
public struct LatencyStats: Codable, Hashable, Sendable {
  /// Calls timed (0 for a modelled or summed value).
  public var count: Int
  public var meanMs: Double
  /// Variance of one call's latency, ms².
  public var varianceMs2: Double

  public init(count: Int, meanMs: Double, varianceMs2: Double) {
    self.count = count
    self.meanMs = meanMs
    self.varianceMs2 = varianceMs2
  }

  public static let zero = LatencyStats(count: 0, meanMs: 0, varianceMs2: 0)

  public var sdMs: Double { varianceMs2.squareRoot() }

  /// Sum of independent latencies.
  public static func + (a: LatencyStats, b: LatencyStats) -> LatencyStats {
    LatencyStats(
      count: min(a.count, b.count), meanMs: a.meanMs + b.meanMs,
      varianceMs2: a.varianceMs2 + b.varianceMs2)
  }

  /// The latency scaled by a constant factor (variance by its square).
  public func scaled(by factor: Double) -> LatencyStats {
    LatencyStats(count: count, meanMs: meanMs * factor, varianceMs2: varianceMs2 * factor * factor)
  }

  enum CodingKeys: String, CodingKey {
    case count
    case meanMs = "mean_ms"
    case varianceMs2 = "var_ms2"
  }
}

/// Turns timed samples into `LatencyStats` robustly on a shared machine.
///
/// Each sample is the mean time of `callsPerSample` back-to-back calls (so that calls much
/// shorter than the clock's resolution can be timed). Samples are grouped in rounds: the probe
/// interleaves benchmarks round by round, so a burst of load from another process hits every
/// benchmark a little instead of one a lot.
///
/// 1. **Preemption filter.** Another process taking the core makes a sample far slower, never
///    faster. Samples above `median + 4 · 1.4826 · MAD` of all samples are dropped.
/// 2. **Mean** = the median over rounds of each round's mean of kept samples (median of means).
/// 3. **Variance** of one call = `callsPerSample ×` the variance of the kept samples (a sample
///    is the mean of that many calls, assumed independent).
///
/// `count` is the number of calls timed, kept or not.
public struct SampleSet: Sendable {
  public let callsPerSample: Int
  /// Per-call seconds of each sample, grouped by round.
  public private(set) var rounds: [[Double]] = []

  public init(callsPerSample: Int) {
    precondition(callsPerSample >= 1, "SampleSet: callsPerSample must be at least 1")
    self.callsPerSample = callsPerSample
  }

  public mutating func startRound() { rounds.append([]) }

  /// Adds one sample: `seconds` for `callsPerSample` calls.
  public mutating func add(totalSeconds seconds: Double) {
    if rounds.isEmpty { startRound() }
    rounds[rounds.count - 1].append(seconds / Double(callsPerSample))
  }

  public var sampleCount: Int { rounds.reduce(0) { $0 + $1.count } }

  /// Samples above this (seconds per call) count as preempted.
  public var cutoff: Double {
    let all = rounds.flatMap { $0 }
    let med = Self.median(all)
    let mad = Self.median(all.map { abs($0 - med) })
    return mad > 0 ? med + 4 * 1.4826 * mad : .infinity
  }

  public var stats: LatencyStats {
    guard sampleCount > 0 else { return .zero }
    let limit = cutoff
    let keptRounds = rounds.map { $0.filter { $0 <= limit } }.filter { !$0.isEmpty }
    let center = Self.median(keptRounds.map { $0.reduce(0, +) / Double($0.count) })
    let kept = keptRounds.flatMap { $0 }
    let mu = kept.reduce(0, +) / Double(kept.count)
    let sampleVariance =
      kept.count > 1 ? kept.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(kept.count - 1) : 0
    return LatencyStats(
      count: sampleCount * callsPerSample, meanMs: center * 1e3,
      varianceMs2: sampleVariance * Double(callsPerSample) * 1e6)
  }

  static func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  }
}

/// Monotonic wall clock in seconds.
public enum MonotonicClock {
  public static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
  }
}
