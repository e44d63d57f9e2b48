import AdaProfile

/// One decision of `VariantSelector`: which variant runs, and why.
public struct Decision: Codable, Hashable, Sendable {
  /// Which branch of the decision rule chose the variant.
  public enum Rule: String, Codable, Hashable, Sendable {
    /// The best-scoring variant that fits, reaches the floor and is on time.
    case best
    /// A voluntary switch to a better-scoring variant (past the hysteresis margins).
    case better
    /// The current variant kept by hysteresis although the ideal choice differs.
    case held
    /// No variant is on time: the fastest that fits and reaches the floor.
    case fastest
    /// No variant that fits reaches the floor: the fastest that fits.
    case belowFloor = "below_floor"
    /// No variant fits the memory: the one needing least.
    case leastMemory = "least_memory"
  }

  public var variant: String
  /// The operating point of the variant's exit plan the inputs run at; nil: without early exits.
  public var operatingPoint: String?
  /// Human-readable explanation, e.g. `v4 predicted 7.10 ms > SLO 6.00 ms → most accurate on time: v2 …`.
  public var reason: String
  /// Predicted latency of one call in the decision's context, feedback correction (and tail
  /// margin) included, ms.
  public var predictedLatencyMs: Double
  /// True when the variant differs from the previous decision's.
  public var switched: Bool
  /// The previous decision's candidate (`label`).
  public var previous: String?
  public var rule: Rule
  /// Whether the prediction meets the SLO (true without an SLO).
  public var onTime: Bool
  /// Whether the variant fits the available memory (with headroom).
  public var fits: Bool
  /// The feedback correction included in `predictedLatencyMs`.
  public var correction: Double
  /// The tail margin included in `predictedLatencyMs` (1 without `Policy.sloPercentile`).
  public var tailMargin: Double
  /// Energy weight from the battery level (0 when not on battery).
  public var energyWeight: Double
  /// Modelled batch-1 energy of the variant in this context, mJ.
  public var energyMj: Double
  public var accuracy: Double

  /// `v3`, or `v3@drop-0.5` at an operating point.
  public var label: String { operatingPoint.map { "\(variant)@\($0)" } ?? variant }

  enum CodingKeys: String, CodingKey {
    case operatingPoint = "operating_point"
    case variant, reason, switched, previous, rule, fits, correction, accuracy
    case tailMargin = "tail_margin"
    case predictedLatencyMs = "predicted_ms"
    case onTime = "on_time"
    case energyWeight = "energy_weight"
    case energyMj = "energy_mj"
  }
}

extension VariantSelector {
  /// Every variant's figures in one context (the per-decision work of the rule).
  struct Evaluation {
    let selector: VariantSelector
    let context: DeviceContext
    let predicted: [Double]
    let memory: [Int]
    let fits: [Bool]
    let reachesFloor: [Bool]
    let onTime: [Bool]
    let energy: [Double]
    let score: [Double]
    let weight: Double
    let availableBytes: Double?

    init(_ s: VariantSelector, _ c: DeviceContext) {
      selector = s
      context = c
      let p = s.policy
      let n = s.variants.count
      predicted = (0..<n).map { s.predictedMs($0, in: c) }
      memory = s.variants.map { $0.memoryBytes(batch: p.batch) }
      availableBytes = c.memoryAvailableMB.map { $0 * 1_048_576 }
      let budget = availableBytes.map { $0 * (1 - p.memoryHeadroom) }
      fits = memory.map { m in budget.map { Double(m) <= $0 } ?? true }
      reachesFloor = s.variants.map { $0.accuracy >= p.accuracyFloor }
      onTime = predicted.map { t in p.sloMs.map { t <= $0 } ?? true }
      let e = s.variants.map { $0.energyMj(in: c) }
      let w = p.energyWeight(battery: c.batteryLevel)
      let maxE = s.maxEnergy
      energy = e
      weight = w
      score = (0..<n).map { i in
        s.variants[i].accuracy - (maxE > 0 ? w * e[i] / maxE : 0)
      }
    }

    /// Whether `a` is preferred to `b`: higher score, then lower energy, then lower latency.
    func prefer(_ a: Int, _ b: Int) -> Bool {
      if score[a] != score[b] { return score[a] > score[b] }
      if energy[a] != energy[b] { return energy[a] < energy[b] }
      return predicted[a] < predicted[b]
    }

    func fastest(_ candidates: [Int]) -> Int? {
      candidates.min { predicted[$0] < predicted[$1] }
    }

    /// Step 1 of the rule, with the reason in words.
    func ideal() -> (index: Int, rule: Decision.Rule, reason: String) {
      let all = Array(selector.variants.indices)
      let fitting = all.filter { fits[$0] }
      let eligible = fitting.filter { reachesFloor[$0] }
      let slo = selector.policy.sloMs
      if let best = eligible.filter({ onTime[$0] }).max(by: { prefer($1, $0) }) {
        let bound = slo.map { " ≤ SLO \(ms($0))" } ?? ""
        let what = weight > 0 ? "best accuracy/energy on time" : "most accurate on time"
        return (best, .best, "\(what): \(describe(best))\(bound)" + energyNote)
      }
      if let f = fastest(eligible) {
        return (f, .fastest, "no variant meets the SLO \(ms(slo ?? 0)): fastest, \(describe(f))")
      }
      if let f = fastest(fitting) {
        return (
          f, .belowFloor,
          "no variant that fits reaches the accuracy floor \(fixed(selector.policy.accuracyFloor, 3)): "
            + "fastest, \(describe(f))"
        )
      }
      let smallest = all.min { memory[$0] < memory[$1] }!
      return (
        smallest, .leastMemory,
        "no variant fits the memory: least memory, \(describe(smallest)), \(memoryText(smallest))"
      )
    }

    /// The voluntary-switch target from `cur` (on time): the best variant that fits, reaches the
    /// floor and meets `(1 − margin) · SLO`, if it scores `minimumGain` more than `cur`.
    func upgradeTarget(from cur: Int) -> Int? {
      let p = selector.policy
      let bound = p.sloMs.map { $0 * (1 - p.upgradeMargin) }
      let candidates = selector.variants.indices.filter { i in
        fits[i] && reachesFloor[i] && (bound.map { predicted[i] <= $0 } ?? true)
      }
      guard let t = candidates.max(by: { prefer($1, $0) }), t != cur,
        score[t] - score[cur] >= max(p.minimumGain, 1e-12)
      else { return nil }
      return t
    }

    func describe(_ i: Int) -> String {
      "\(selector.variants[i].label) (accuracy \(fixed(selector.variants[i].accuracy, 3)), predicted "
        + "\(ms(predicted[i]))\(percentileNote))"
    }

    /// ` at p95 (margin 1.42×)` with a tail-aware SLO, else empty.
    var percentileNote: String {
      guard let q = selector.policy.sloPercentile else { return "" }
      return
        " at p\(fixed(q * 100, q * 100 == (q * 100).rounded() ? 0 : 1)) (margin \(fixed(selector.tailMargin, 2))×)"
    }

    func memoryText(_ i: Int) -> String {
      let need = Double(memory[i]) / 1_048_576
      guard let avail = availableBytes else { return "needs \(fixed(need, 1)) MB" }
      return "needs \(fixed(need, 1)) MB of \(fixed(avail / 1_048_576, 1)) MB available "
        + "(\(Int((selector.policy.memoryHeadroom * 100).rounded()))% kept free)"
    }

    var energyNote: String {
      guard weight > 0, let b = context.batteryLevel else { return "" }
      return "; battery \(Int((b * 100).rounded()))%: energy weight \(fixed(weight, 3))"
    }
  }
}
