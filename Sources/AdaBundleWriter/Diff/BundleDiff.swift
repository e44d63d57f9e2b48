import AdaBundle
import AdaSearch
import Foundation

/// Two bundles compared, for a CI job that must not ship worse variants than last time
/// (docs/ci.md, `adascale diff`).
///
/// **Matching.** Variants with the same genome (`genome_key`) are the same configuration and
/// are paired first (`matched_by: genome`); the others are paired by rank in latency order
/// among those left (the k-th fastest unpaired old variant with the k-th fastest unpaired new
/// one, `matched_by: latency-rank`), so that a re-run whose search drifted still compares like
/// with like along the front; what is left over on either side is listed unpaired.
///
/// **Fronts.** Each bundle's variants as (accuracy, latency) points, hypervolume in one box
/// fitted to both (ideal: the best accuracy and lowest latency of either; nadir: the worst
/// plus 10 % of the range), so the two figures are comparable.
public struct BundleDiff: Codable, Hashable, Sendable {
  public struct Side: Codable, Hashable, Sendable {
    public var path: String
    public var variants: Int
    public var bestAccuracy: Double
    public var fastestMs: Double
    public var hypervolume: Double
    public var sourceAccuracy: Double

    enum CodingKeys: String, CodingKey {
      case path, variants, hypervolume
      case bestAccuracy = "best_accuracy", fastestMs = "fastest_ms", sourceAccuracy = "source_accuracy"
    }
  }

  /// One variant of either bundle and its counterpart.
  public struct Pair: Codable, Hashable, Sendable {
    public enum Match: String, Codable, Sendable {
      case genome
      case latencyRank = "latency-rank"
      case unpaired
    }
    public var old: Figures?
    public var new: Figures?
    public var matchedBy: Match

    /// New minus old accuracy (nil when unpaired).
    public var accuracyChange: Double? { old.flatMap { o in new.map { $0.accuracy - o.accuracy } } }
    /// New latency over old, minus 1 (0.1: 10 % slower).
    public var latencyChange: Double? {
      old.flatMap { o in new.map { o.latencyMs > 0 ? $0.latencyMs / o.latencyMs - 1 : 0 } }
    }

    enum CodingKeys: String, CodingKey {
      case old, new
      case matchedBy = "matched_by"
    }
  }

  public struct Figures: Codable, Hashable, Sendable {
    public var id: String
    public var genome: String
    public var accuracy: Double
    public var latencyMs: Double
    public var energyMj: Double
    public var weightBytes: Int
    public var macs: Int

    init(_ v: Manifest.Variant) {
      id = v.id
      genome = v.genomeKey
      accuracy = v.accuracy
      latencyMs = v.latencyMs
      energyMj = v.energyMj
      weightBytes = v.weightBytes
      macs = v.macs
    }

    enum CodingKeys: String, CodingKey {
      case id, genome, accuracy, macs
      case latencyMs = "latency_ms", energyMj = "energy_mj", weightBytes = "weight_bytes"
    }
  }

  public var old: Side
  public var new: Side
  public var pairs: [Pair]
  /// The shared hypervolume box: nadir and ideal of (accuracy, latency ms).
  public var box: HypervolumeReference

  public static func compare(old: Manifest, at oldPath: String, new: Manifest, at newPath: String)
    -> BundleDiff
  {
    let objectives = [Objective.maximize("accuracy"), .minimize("latency_ms")]
    let points = (old.variants + new.variants).map { [$0.accuracy, $0.latencyMs] }
    let box = HypervolumeReference.fitting(points, objectives: objectives)
    func side(_ m: Manifest, _ path: String) -> Side {
      Side(
        path: path, variants: m.variants.count, bestAccuracy: m.variants.map(\.accuracy).max() ?? 0,
        fastestMs: m.variants.map(\.latencyMs).min() ?? 0,
        hypervolume: box.hypervolume(m.variants.map { [$0.accuracy, $0.latencyMs] }),
        sourceAccuracy: m.source.accuracy)
    }
    return BundleDiff(
      old: side(old, oldPath), new: side(new, newPath), pairs: pair(old.variants, new.variants), box: box)
  }

  /// Genome pairs first, then latency rank among the rest, then the unpaired (see the type).
  static func pair(_ old: [Manifest.Variant], _ new: [Manifest.Variant]) -> [Pair] {
    var pairs: [Pair] = []
    var restOld: [Manifest.Variant] = []
    var restNew = new
    for o in old {
      if let j = restNew.firstIndex(where: { $0.genomeKey == o.genomeKey }) {
        pairs.append(Pair(old: Figures(o), new: Figures(restNew.remove(at: j)), matchedBy: .genome))
      } else {
        restOld.append(o)
      }
    }
    let byLatency: (Manifest.Variant, Manifest.Variant) -> Bool = { $0.latencyMs < $1.latencyMs }
    let (a, b) = (restOld.sorted(by: byLatency), restNew.sorted(by: byLatency))
    for k in 0..<max(a.count, b.count) {
      let o = k < a.count ? Figures(a[k]) : nil
      let n = k < b.count ? Figures(b[k]) : nil
      pairs.append(Pair(old: o, new: n, matchedBy: o != nil && n != nil ? .latencyRank : .unpaired))
    }
    return pairs.sorted { ($0.old ?? $0.new)!.latencyMs < ($1.old ?? $1.new)!.latencyMs }
  }
}
