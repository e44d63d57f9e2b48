import AdaCompress
import AdaNN
import Foundation

/// Picks the variants a bundle ships from the search's Pareto front: always the most accurate
/// and the fastest, then the rest spread evenly over log-latency between them (each pick the
/// front point nearest its target that is not yet taken). A point whose predicted latency is
/// within `distinctLatency` of a picked one is taken only when no other is left: two front
/// points a few per cent apart (one block's bits, say) are one variant to an app choosing by
/// latency, and a sparse stretch of the front would otherwise fill with them. Deterministic.
public enum VariantSelection {
  /// Relative latency difference below which two picks count as the same speed: 5 %, less than
  /// the per-op table's typical error against measurement (docs/profiler.md).
  public static let distinctLatency = 0.05

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
      let distinct = remaining.filter { c in
        picked.allSatisfy { abs(log(c.latencyMs) - log($0.latencyMs)) >= log(1 + distinctLatency) }
      }
      guard
        let nearest = (distinct.isEmpty ? remaining : distinct).min(by: {
          abs(log($0.latencyMs) - target) < abs(log($1.latencyMs) - target)
        })
      else { break }
      picked.append(nearest)
    }
    return picked.sorted { ($0.latencyMs, $0.config.description) < ($1.latencyMs, $1.config.description) }
  }
}

private func log(_ x: Double) -> Double { x > 0 ? Foundation.log(x) : -1e9 }
