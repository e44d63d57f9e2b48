import AdaCompress
import AdaNN
import Foundation

/// Picks the variants a bundle ships from the search's Pareto front: always the most accurate
/// and the fastest, then the rest spread evenly over log-latency between them (each pick the
/// front point nearest its target that is not yet taken). Deterministic.
public enum VariantSelection {
  public struct Candidate: Sendable, Hashable {
    public var config: SubnetConfig
    public var accuracy: Double
    public var latencyMs: Double
    public init(config: SubnetConfig, accuracy: Double, latencyMs: Double) {
      self.config = config
      self.accuracy = accuracy
      self.latencyMs = latencyMs
    }
  }

  /// Up to `count` candidates, fastest first.
  public static func pick(_ front: [Candidate], count: Int) -> [Candidate] {
    let sorted = front.sorted {
      ($0.latencyMs, -$0.accuracy, $0.config.description) < (
        $1.latencyMs, -$1.accuracy, $1.config.description
      )
    }
    guard count >= 1 else { return [] }
    guard sorted.count > count else { return sorted }
    guard count >= 2 else {
      return [sorted.max { ($0.accuracy, -$0.latencyMs) < ($1.accuracy, -$1.latencyMs) }!]
    }
    let fastest = sorted.first!
    let best = sorted.max { ($0.accuracy, -$0.latencyMs) < ($1.accuracy, -$1.latencyMs) }!
    var picked: [Candidate] = [fastest]
    if best != fastest { picked.append(best) }
    let lo = log(fastest.latencyMs)
    let hi = log(sorted.last!.latencyMs)
    let slots = count - picked.count
    for k in 0..<slots {
      let target = lo + (hi - lo) * Double(k + 1) / Double(slots + 1)
      let remaining = sorted.filter { !picked.contains($0) }
      guard
        let nearest = remaining.min(by: { abs(log($0.latencyMs) - target) < abs(log($1.latencyMs) - target) })
      else { break }
      picked.append(nearest)
    }
    return picked.sorted { ($0.latencyMs, $0.config.description) < ($1.latencyMs, $1.config.description) }
  }
}

private func log(_ x: Double) -> Double { x > 0 ? Foundation.log(x) : -1e9 }
