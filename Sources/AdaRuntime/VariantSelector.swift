import AdaProfile
import Foundation

/// Picks the variant to run in a context, with hysteresis, and learns from measured latency.
/// Pure and allocation-light: no I/O, a few passes over the variants per decision.
///
/// A "variant" here is a candidate: a bundle variant, or with early exits a (variant, operating
/// point) pair (`VariantProfile.operatingPoint`), named by its `label` in reasons; the rule
/// treats them alike.
///
/// **Decision rule** (docs/runtime.md). For variant `v` in context `c`:
///
///     predicted(v) = latency_nominal(v) · batch / (cpu share · freq scale · thermal factor) · corr(v)
///     fits(v)      = memory(v, batch) ≤ (1 − headroom) · memory available     (unknown memory: fits)
///     score(v)     = accuracy(v) − w(battery) · energy(v) / max energy
///
/// 1. The *ideal* choice: the best score among variants that fit, reach the accuracy floor and
///    are on time (`predicted ≤ SLO`); ties go to lower energy, then lower latency. If none is
///    on time: the fastest variant that fits and reaches the floor; if none reaches the floor:
///    the fastest that fits; if none fits: the one needing least memory.
/// 2. *Hysteresis* with the current variant `cur`:
///    - `cur` does not fit, or is below the floor while another reaches it: switch now;
///    - `cur` is predicted late: switch to the ideal (a faster one) after
///      `lateDecisionsToSwitch` consecutive late predictions;
///    - `cur` is on time: switch only to a variant that meets `(1 − upgradeMargin) · SLO`, scores
///      at least `minimumGain` more, and stays the target for `upgradeDwell · 2^flaps(v)`
///      consecutive decisions, where `flaps(v)` counts how often `v` was left for being late (up
///      to 5; one is forgiven per 100 consecutive on-time decisions on `v`): a variant that keeps
///      failing waits twice as long each time (flap damping).
/// 3. *Feedback*: `corr(v) = g · b(v)`. After a run, `record` folds the ratio
///    `r = measured / predicted-before-correction` into a machine-wide factor `g` (fast log-EWMA: what
///    the monitor does not see, e.g. load it cannot attribute, affects every variant) and a
///    per-variant bias `b(v)` (EWMA 15× slower, of `r / g`: how this variant departs from its LUT
///    figure). A variant that is not running keeps its bias but follows `g`, so its estimate
///    does not go stale while another variant runs.
/// 4. *Tail* (with `policy.sloPercentile` q): every prediction the rule compares with the SLO
///    is multiplied by the margin `m` = the q-quantile of `measured / predicted` over the last
///    `policy.tailWindow` calls (within `policy.tailMarginBounds`), so that the SLO holds at
///    the q-th percentile under the current contention, not only on average. Under a busy
///    neighbour latencies spread (a call that is preempted takes a time slice longer); the
///    margin widens with them and narrows when they calm down.
public struct VariantSelector: Sendable {
  public let variants: [VariantProfile]
  public var policy: Policy
  /// Index of the variant the last decision chose.
  public private(set) var current: Int?
  /// Per-variant bias `b(v)` of measured over predicted latency relative to `globalCorrection`
  /// (starts at 1).
  public private(set) var biases: [Double]
  /// Machine-wide factor `g`: EWMA of `ratio / b(v)` over every measurement.
  public private(set) var globalCorrection = 1.0
  private var lateStreak = 0
  private var upgradeTarget: Int?
  private var upgradeStreak = 0
  /// Flap damping: times each variant was left for being late, less one per
  /// `Self.flapForgiveness` consecutive on-time decisions on it (0–5).
  public private(set) var flaps: [Int]
  private var onTimeStreak = 0
  /// On-time decisions on a variant that forgive it one flap.
  public static let flapForgiveness = 100
  private let maxEnergyByContext: Double
  /// The latest `measured / predicted` ratios (a ring of `policy.tailWindow`), and where the
  /// next one goes.
  private var residuals: [Double] = []
  private var residualNext = 0
  /// The tail margin `m` in force (1 without `policy.sloPercentile`).
  public private(set) var tailMargin = 1.0

  public init(variants: [VariantProfile], policy: Policy) {
    precondition(!variants.isEmpty, "a selector needs at least one variant")
    self.variants = variants
    self.policy = policy
    biases = Array(repeating: 1, count: variants.count)
    flaps = Array(repeating: 0, count: variants.count)
    maxEnergyByContext = variants.flatMap { $0.energyByContext.map(\.energyMj) }.max() ?? 0
  }

  /// The index of variant `id` (without early exits, when it is a candidate).
  public func index(of id: String) -> Int? {
    variants.firstIndex { $0.id == id && $0.operatingPoint == nil } ?? variants.firstIndex { $0.id == id }
  }

  /// The index of the candidate of variant `id` at `operatingPoint` (nil: without early exits).
  public func index(of id: String, operatingPoint: String?) -> Int? {
    variants.firstIndex { $0.id == id && $0.operatingPoint == operatingPoint }
  }

  /// The latency correction in use for variant `i`: `g · b(i)`.
  public func correction(_ i: Int) -> Double { globalCorrection * biases[i] }

  /// Predicted latency of one call of variant `i` in `context`, corrected by feedback (and, with
  /// `policy.sloPercentile`, at that percentile: times `tailMargin`).
  public func predictedMs(_ i: Int, in context: DeviceContext) -> Double {
    variants[i].latencyMs(in: context, batch: policy.batch) * correction(i) * tailMargin
  }

  /// Decides which variant runs next in `context` (see the type's documentation).
  public mutating func select(_ context: DeviceContext) -> Decision {
    let eval = Evaluation(self, context)
    let ideal = eval.ideal()
    guard let cur = current else {
      return commit(ideal.index, eval, reason: ideal.reason, rule: ideal.rule)
    }
    if eval.onTime[cur] {
      onTimeStreak += 1
      if onTimeStreak >= Self.flapForgiveness {
        onTimeStreak = 0
        flaps[cur] = max(flaps[cur] - 1, 0)
      }
    } else {
      onTimeStreak = 0
    }
    if cur == ideal.index {
      lateStreak = 0
      upgradeTarget = nil
      upgradeStreak = 0
      return commit(cur, eval, reason: "still " + ideal.reason, rule: ideal.rule)
    }
    let name = variants[cur].label
    if !eval.fits[cur] {
      return commit(
        ideal.index, eval, reason: "\(name) \(eval.memoryText(cur)) → " + ideal.reason, rule: ideal.rule)
    }
    if !eval.reachesFloor[cur] && eval.reachesFloor[ideal.index] {
      return commit(
        ideal.index, eval, reason: "\(name) is below the accuracy floor → " + ideal.reason, rule: ideal.rule)
    }
    if !eval.onTime[cur] {
      upgradeTarget = nil
      upgradeStreak = 0
      guard eval.predicted[ideal.index] < eval.predicted[cur] else {
        return commit(cur, eval, reason: "\(name) predicted late but nothing fitting is faster", rule: .held)
      }
      lateStreak += 1
      let late = "\(name) predicted \(ms(eval.predicted[cur])) > SLO \(ms(policy.sloMs ?? 0))"
      if lateStreak >= policy.lateDecisionsToSwitch {
        if policy.flapDamping { flaps[cur] = min(flaps[cur] + 1, 5) }
        return commit(ideal.index, eval, reason: late + " → " + ideal.reason, rule: ideal.rule)
      }
      return commit(
        cur, eval, reason: late + " (\(lateStreak)/\(policy.lateDecisionsToSwitch)), holding", rule: .held)
    }
    lateStreak = 0
    guard let target = eval.upgradeTarget(from: cur) else {
      upgradeTarget = nil
      upgradeStreak = 0
      return commit(
        cur, eval, reason: "staying on \(name): \(variants[ideal.index].label) is not better by the margins",
        rule: .held)
    }
    upgradeStreak = upgradeTarget == target ? upgradeStreak + 1 : 1
    upgradeTarget = target
    let better =
      "\(variants[target].label) scores \(fixed(eval.score[target] - eval.score[cur], 4)) more, "
      + "predicted \(ms(eval.predicted[target]))"
    let dwell = upgradeDwell(target)
    if upgradeStreak >= dwell {
      upgradeStreak = 0
      upgradeTarget = nil
      return commit(
        target, eval, reason: better + " → switch" + eval.energyNote, rule: .better)
    }
    return commit(
      cur, eval, reason: better + " (\(upgradeStreak)/\(dwell)), holding \(name)", rule: .held)
  }

  /// Decisions an upgrade to `i` must wait: `upgradeDwell · 2^flaps(i)`.
  public func upgradeDwell(_ i: Int) -> Int { policy.upgradeDwell << flaps[i] }

  /// Feeds back the latency measured for `decision`'s run. With `r` = measured / (predicted
  /// before correction), clamped to `policy.ratioClamp`, α = `policy.ewmaAlpha`:
  ///
  ///     log g    ← (1 − α) · log g + α · log(r / b(v))
  ///     log b(v) ← (1 − β) · log b(v) + β · log(r / g),      β = α / 15
  ///
  /// In log space (geometric means), so that one call preempted to 5× moves the estimate by
  /// 5^α (×1.6), not by α · 4 (×2.2), and a speed-up and a slow-down of the same factor cancel.
  ///
  /// One running variant cannot tell a machine-wide slowdown from its own bias; the LUT was
  /// measured on this host, so the prior is `b = 1`: `g` takes changes within ~3 runs, `b` only
  /// what persists over ~50, and a transient absorbed by `g` barely moves `b`.
  public mutating func record(_ decision: Decision, measuredMs: Double) {
    guard let i = index(of: decision.variant, operatingPoint: decision.operatingPoint), measuredMs.isFinite,
      measuredMs > 0,
      decision.correction > 0, decision.predictedLatencyMs > 0
    else { return }
    let mean = decision.predictedLatencyMs / max(decision.tailMargin, 1)
    recordResidual(measuredMs / mean)
    let raw = mean / decision.correction
    let ratio = min(max(measuredMs / raw, policy.ratioClamp.lowerBound), policy.ratioClamp.upperBound)
    let a = policy.ewmaAlpha
    globalCorrection = exp((1 - a) * log(globalCorrection) + a * log(ratio / biases[i]))
    let b = a / 15
    biases[i] = exp((1 - b) * log(biases[i]) + b * log(ratio / globalCorrection))
  }

  /// Adds one `measured / predicted` ratio to the tail window and recomputes `tailMargin`.
  private mutating func recordResidual(_ r: Double) {
    guard let q = policy.sloPercentile, r.isFinite, r > 0 else {
      tailMargin = 1
      return
    }
    let window = max(policy.tailWindow, 1)
    if residuals.count < window {
      residuals.append(r)
    } else {
      residuals[residualNext % residuals.count] = r
    }
    residualNext = (residualNext + 1) % window
    tailMargin = Self.margin(residuals, percentile: q, bounds: policy.tailMarginBounds)
  }

  /// The `percentile` quantile of `ratios` (nearest rank), within `bounds`; the lower bound
  /// until the window holds 8 ratios.
  public static func margin(_ ratios: [Double], percentile: Double, bounds: ClosedRange<Double>) -> Double {
    guard ratios.count >= 8 else { return bounds.lowerBound }
    let sorted = ratios.sorted()
    let rank = min(sorted.count - 1, max(0, Int((percentile * Double(sorted.count)).rounded(.up)) - 1))
    return min(max(sorted[rank], bounds.lowerBound), bounds.upperBound)
  }

  /// Forgets the current choice and the streaks (not the corrections).
  public mutating func reset() {
    current = nil
    lateStreak = 0
    upgradeTarget = nil
    upgradeStreak = 0
  }

  private mutating func commit(_ i: Int, _ eval: Evaluation, reason: String, rule: Decision.Rule) -> Decision
  {
    let previous = current.map { variants[$0].label }
    let switched = current != nil && current != i
    current = i
    if switched {
      onTimeStreak = 0
      lateStreak = 0
      upgradeTarget = nil
      upgradeStreak = 0
    }
    return Decision(
      variant: variants[i].id, operatingPoint: variants[i].operatingPoint, reason: reason,
      predictedLatencyMs: eval.predicted[i], switched: switched,
      previous: previous, rule: rule, onTime: eval.onTime[i], fits: eval.fits[i], correction: correction(i),
      tailMargin: tailMargin,
      energyWeight: eval.weight, energyMj: eval.energy[i], accuracy: variants[i].accuracy)
  }

  var maxEnergy: Double { maxEnergyByContext }
}

func ms(_ v: Double) -> String { fixed(v, v < 10 ? 2 : 1) + " ms" }

func fixed(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }
