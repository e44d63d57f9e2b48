/// Per-exit confidence thresholds for a multi-exit model, fitted on observations of a held-out
/// split (docs/exits.md, "Calibration"). Pure: no model, just numbers.
///
/// An input leaves at the first exit `k` whose threshold `t_k` is set and whose confidence
/// reaches it (`c_k ≥ t_k`), else at the final output. An exit with `t_k = nil` is disabled: its
/// head is not run, so it costs nobody anything. An input leaving at exit `j` costs
/// `backbone_j + Σ_{k ≤ j, t_k set} head_k`; one reaching the end costs
/// `final + Σ_{k, t_k set} head_k`.
///
/// **Targets.** `accuracyDrop(d)`: the least expected cost with accuracy ≥ (accuracy of the
/// final output alone) − d. `budget(b)`: the best accuracy with expected cost ≤ b · `final`
/// (MSDNet's budgeted classification); ties go to the cheaper thresholds. Accuracies compare as
/// counts of correct inputs, so no rounding noise decides feasibility.
///
/// **Search.** Candidate thresholds per exit: `nil`, and up to `candidates` quantiles of that
/// exit's observed confidences (all distinct values when there are fewer). With at most three
/// exits, every combination of a coarse grid (≤ `exhaustiveGrid` quantiles per exit, again all
/// values when fewer) is tried; then coordinate descent over the full candidate lists — one exit
/// at a time takes its best candidate with the others fixed, until a pass changes nothing —
/// starts from that best and from `uniformStarts` uniform thresholds (the same value at every
/// exit, the Shallow-Deep Networks sweep) and from "no exit" and "all leave at the first exit". Each
/// step never worsens the target's order, so it ends. When all observed values fit the grid,
/// the result is the exact optimum over thresholds at observed confidences (which is the exact
/// optimum: any threshold behaves like the smallest observed confidence at or above it).
///
///     let obs = ExitObservations(confidence: [c0, c1], correct: [r0, r1], finalCorrect: rf)
///     let costs = ExitCosts(backbone: [10, 40], head: [1, 2], final: 100)
///     let point = ThresholdCalibration.calibrate(.accuracyDrop(0.01), obs, costs)
public enum ThresholdCalibration {
  public enum Target: Hashable, Sendable {
    /// Accuracy drop allowed, 0–1 (0.005 is half a point).
    case accuracyDrop(Double)
    /// Expected cost allowed, as a fraction of `ExitCosts.final`.
    case budget(Double)
  }

  /// Thresholds and what they give on the observations.
  public struct Outcome: Hashable, Sendable {
    public var thresholds: [Float?]
    /// Share of inputs leaving at each exit, then at the final output.
    public var exitRates: [Double]
    public var expectedCost: Double
    public var correct: Int
    public var accuracy: Double
    /// Inputs that exactly one of this point and the final output alone answers rightly: the
    /// only inputs on which the two accuracies differ, so the sampling error of the change in
    /// accuracy grows with their share (`Manifest.ExitPlan.predictionError`).
    public var swapped: Int
    /// Whether the target's constraint holds (a budget below the cheapest exit cannot be met).
    public var feasible: Bool
  }

  public static let defaultCandidates = 64
  public static let exhaustiveGrid = 24
  public static let uniformStarts = 16

  /// Where each input leaves (exit index, or `K` for the final output) and the outcome.
  public static func evaluate(_ thresholds: [Float?], _ obs: ExitObservations, _ costs: ExitCosts) -> Outcome
  {
    let k = obs.exitCount
    precondition(
      thresholds.count == k && costs.backbone.count == k, "ThresholdCalibration: one threshold per exit")
    var leaveCost = [Double](repeating: 0, count: k + 1)
    var heads = 0.0
    for j in 0..<k {
      if thresholds[j] != nil { heads += costs.head[j] }
      leaveCost[j] = costs.backbone[j] + heads
    }
    leaveCost[k] = costs.final + heads
    var counts = [Int](repeating: 0, count: k + 1)
    var correct = 0
    var swapped = 0
    for i in 0..<obs.count {
      var at = k
      for j in 0..<k {
        if let t = thresholds[j], obs.confidence[j][i] >= t {
          at = j
          break
        }
      }
      counts[at] += 1
      let right = at == k ? obs.finalCorrect[i] : obs.correct[at][i]
      if right { correct += 1 }
      if right != obs.finalCorrect[i] { swapped += 1 }
    }
    let n = Double(max(obs.count, 1))
    var cost = 0.0
    for j in 0...k { cost += Double(counts[j]) * leaveCost[j] }
    return Outcome(
      thresholds: thresholds, exitRates: counts.map { Double($0) / n }, expectedCost: cost / n,
      correct: correct, accuracy: Double(correct) / n, swapped: swapped, feasible: true)
  }

  /// The thresholds best meeting `target` (see the type's documentation).
  public static func calibrate(
    _ target: Target, _ obs: ExitObservations, _ costs: ExitCosts, candidates: Int = defaultCandidates
  ) -> Outcome {
    let k = obs.exitCount
    let finalCorrect = obs.finalCorrect.filter { $0 }.count
    // Ordering key: smaller is better; infeasible points sort after feasible ones.
    func key(_ o: Outcome) -> (Double, Double, Double) {
      switch target {
      case .accuracyDrop(let d):
        let required = Int((Double(finalCorrect) - d * Double(obs.count) - 1e-9).rounded(.up))
        return o.correct >= required
          ? (0, o.expectedCost, -Double(o.correct)) : (1, Double(required - o.correct), o.expectedCost)
      case .budget(let b):
        let limit = b * costs.final * (1 + 1e-12)
        return o.expectedCost <= limit
          ? (0, -Double(o.correct), o.expectedCost) : (1, o.expectedCost, -Double(o.correct))
      }
    }
    func better(_ a: Outcome, _ b: Outcome) -> Bool { key(a) < key(b) }
    let lists = (0..<k).map { quantiles(obs.confidence[$0], count: candidates) }
    var best = evaluate(Array(repeating: nil, count: k), obs, costs)
    func consider(_ t: [Float?]) {
      let o = evaluate(t, obs, costs)
      if better(o, best) { best = o }
    }
    if k == 0 { return finish(best, key) }
    if k <= 3 {
      let grids: [[Float?]] = (0..<k).map {
        [nil] + quantiles(obs.confidence[$0], count: exhaustiveGrid).map { $0 }
      }
      var index = [Int](repeating: 0, count: k)
      while true {
        consider((0..<k).map { grids[$0][index[$0]] })
        var j = 0
        while j < k {
          index[j] += 1
          if index[j] < grids[j].count { break }
          index[j] = 0
          j += 1
        }
        if j == k { break }
      }
    }
    var starts: [[Float?]] = [
      best.thresholds, Array(repeating: nil, count: k), [0] + Array(repeating: nil, count: k - 1),
    ]
    for q in quantiles(lists.flatMap { $0 }, count: uniformStarts) {
      starts.append(Array(repeating: q, count: k))
    }
    for start in starts {
      var current = evaluate(start, obs, costs)
      for _ in 0..<20 {
        var changed = false
        for j in 0..<k {
          for candidate in [nil] + lists[j].map({ Optional($0) }) where candidate != current.thresholds[j] {
            var t = current.thresholds
            t[j] = candidate
            let o = evaluate(t, obs, costs)
            if better(o, current) {
              current = o
              changed = true
            }
          }
        }
        if !changed { break }
      }
      if better(current, best) { best = current }
    }
    return finish(best, key)
  }

  static func finish(_ o: Outcome, _ key: (Outcome) -> (Double, Double, Double)) -> Outcome {
    var r = o
    r.feasible = key(o).0 == 0
    return r
  }

  /// Up to `count` values of `values` at evenly spaced ranks (all distinct values when there
  /// are at most `count`), ascending, the smallest always included.
  static func quantiles(_ values: [Float], count: Int) -> [Float] {
    let distinct = Array(Set(values)).sorted()
    guard distinct.count > count, count > 1 else { return distinct }
    var out: [Float] = []
    for i in 0..<count {
      let v = distinct[i * (distinct.count - 1) / (count - 1)]
      if out.last != v { out.append(v) }
    }
    return out
  }
}

/// What calibration sees of each input on a split: each exit's confidence and whether its
/// prediction was right, and whether the final output was right.
public struct ExitObservations: Sendable {
  /// `[K][N]`: exit `k`'s confidence for input `i`.
  public var confidence: [[Float]]
  /// `[K][N]`: whether exit `k` predicts input `i`'s label.
  public var correct: [[Bool]]
  /// `[N]`: whether the final output predicts input `i`'s label.
  public var finalCorrect: [Bool]

  public init(confidence: [[Float]], correct: [[Bool]], finalCorrect: [Bool]) {
    precondition(
      confidence.count == correct.count && confidence.allSatisfy { $0.count == finalCorrect.count }
        && correct.allSatisfy { $0.count == finalCorrect.count },
      "ExitObservations: [K][N] confidences and correctness, [N] final correctness")
    self.confidence = confidence
    self.correct = correct
    self.finalCorrect = finalCorrect
  }

  public var exitCount: Int { confidence.count }
  public var count: Int { finalCorrect.count }

  /// The observations of exits `kept` only (in that order).
  public func keeping(_ kept: [Int]) -> ExitObservations {
    ExitObservations(
      confidence: kept.map { confidence[$0] }, correct: kept.map { correct[$0] }, finalCorrect: finalCorrect)
  }
}

/// Costs (MACs, or predicted ms) of a multi-exit model for calibration.
public struct ExitCosts: Hashable, Sendable {
  /// Per exit: the backbone from the input to the node the head reads (no head included).
  public var backbone: [Double]
  /// Per exit: the head alone.
  public var head: [Double]
  /// The variant without heads, input to final output.
  public var final: Double

  public init(backbone: [Double], head: [Double], final: Double) {
    precondition(backbone.count == head.count, "ExitCosts: one backbone and head cost per exit")
    self.backbone = backbone
    self.head = head
    self.final = final
  }

  public func keeping(_ kept: [Int]) -> ExitCosts {
    ExitCosts(backbone: kept.map { backbone[$0] }, head: kept.map { head[$0] }, final: final)
  }
}
