/// What the search optimises and the limits it respects (recipe `search.objectives` and
/// `constraints`), and the metrics a candidate is judged on.

/// What the search can optimise (recipe `search.objectives`).
public enum SearchObjective: String, Codable, Hashable, Sendable, CaseIterable {
  case accuracy
  case latency = "latency_ms"
  case energy = "energy_mj"
  case memory = "memory_mb"
}

/// Latency, energy and memory of one candidate.
public struct CandidateCost: Codable, Hashable, Sendable {
  public var latencyMs: Double
  public var energyMj: Double
  public var memoryMB: Double
}

/// Everything a candidate is judged on.
public struct CandidateMetrics: Codable, Hashable, Sendable {
  public var accuracy: Double
  public var latencyMs: Double
  public var energyMj: Double
  public var memoryMB: Double

  public func value(of objective: SearchObjective) -> Double {
    switch objective {
    case .accuracy: accuracy
    case .latency: latencyMs
    case .energy: energyMj
    case .memory: memoryMB
    }
  }
}

/// Hard limits from the recipe. A candidate's violation is the sum of how far it misses each,
/// relative to the limit (0 when it meets them all).
public struct SearchConstraints: Codable, Hashable, Sendable {
  public var minAccuracy: Double?
  public var maxLatencyMs: Double?
  public var maxMemoryMB: Double?

  public init(minAccuracy: Double? = nil, maxLatencyMs: Double? = nil, maxMemoryMB: Double? = nil) {
    self.minAccuracy = minAccuracy
    self.maxLatencyMs = maxLatencyMs
    self.maxMemoryMB = maxMemoryMB
  }

  public func violation(of m: CandidateMetrics) -> Double {
    var v = 0.0
    if let a = minAccuracy { v += max(0, a - m.accuracy) / max(a, 1e-9) }
    if let l = maxLatencyMs { v += max(0, m.latencyMs - l) / l }
    if let mem = maxMemoryMB { v += max(0, m.memoryMB - mem) / mem }
    return v
  }

  public func isMet(by m: CandidateMetrics) -> Bool { violation(of: m) == 0 }
}
