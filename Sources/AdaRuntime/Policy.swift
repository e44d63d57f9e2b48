/// What the user asks of the adaptation loop, and the knobs of its hysteresis and feedback
/// (docs/runtime.md, "Decision rule").
///
///     var policy = Policy(sloMs: 5, accuracyFloor: 0.85)
///     policy.maxEnergyWeight = 0.08   // trade more accuracy for energy when the battery runs low
public struct Policy: Codable, Hashable, Sendable {
  /// Latency bound of one `predict` call (one batch), ms; nil: no bound.
  public var sloMs: Double?
  /// Variants less accurate than this are not chosen while any variant above it fits memory.
  public var accuracyFloor: Double
  /// Examples per call: scales predicted latency and activation memory.
  public var batch: Int
  /// Fraction of the available memory kept free: a variant fits when its memory at `batch` is
  /// at most `(1 − memoryHeadroom) ×` the available memory.
  public var memoryHeadroom: Double

  /// Energy weight at an empty battery: accuracy (0–1 scale) the selector gives up per unit of
  /// energy normalised by the most energy-hungry variant's. See `energyWeight(battery:)`.
  public var maxEnergyWeight: Double
  /// At or above this battery level the energy weight is 0.
  public var batteryHigh: Double
  /// At or below this level the energy weight is `maxEnergyWeight`.
  public var batteryLow: Double

  /// Voluntary switches (to a better-scoring variant while the current one is on time) need the
  /// new variant to meet `(1 − upgradeMargin) × sloMs`, ...
  public var upgradeMargin: Double
  /// ... to be the target for this many consecutive decisions, ...
  public var upgradeDwell: Int
  /// ... and to score at least this much higher (accuracy units).
  public var minimumGain: Double
  /// The current variant is left after this many consecutive decisions that predict it late.
  public var lateDecisionsToSwitch: Int
  /// Double a variant's upgrade dwell each time it is left for being late (see `VariantSelector`).
  public var flapDamping: Bool

  /// Weight of the newest measured/predicted ratio in the latency correction (EWMA).
  public var ewmaAlpha: Double
  /// Ratios are clamped to this range before entering the EWMA (one preempted call cannot
  /// move the estimate by more than this factor).
  public var ratioClamp: ClosedRange<Double>

  /// Tail-aware SLO: the percentile (e.g. 0.95) of a call's latency that must meet `sloMs`;
  /// nil: the corrected mean prediction must (see `VariantSelector.tailMargin`).
  public var sloPercentile: Double?
  /// Calls whose measured/predicted ratios the tail margin is taken over (the latest ones).
  public var tailWindow: Int
  /// Bounds of the tail margin: at least `tailMarginBounds.lowerBound` (a fixed safety margin,
  /// 1 = none) and at most its upper bound, whatever the window holds.
  public var tailMarginBounds: ClosedRange<Double>

  public init(
    sloMs: Double? = nil, accuracyFloor: Double = 0, batch: Int = 1, memoryHeadroom: Double = 0.1,
    maxEnergyWeight: Double = 0.05, batteryHigh: Double = 0.5, batteryLow: Double = 0.1,
    upgradeMargin: Double = 0.1, upgradeDwell: Int = 3, minimumGain: Double = 0.002,
    lateDecisionsToSwitch: Int = 1, flapDamping: Bool = true, ewmaAlpha: Double = 0.3,
    ratioClamp: ClosedRange<Double> = 0.2...5, sloPercentile: Double? = nil, tailWindow: Int = 64,
    tailMarginBounds: ClosedRange<Double> = 1...4
  ) {
    precondition(sloMs.map { $0 > 0 } ?? true, "the SLO must be positive")
    precondition(batch >= 1, "batch must be at least 1")
    precondition(memoryHeadroom >= 0 && memoryHeadroom < 1, "memory headroom must be in [0, 1)")
    precondition(batteryLow < batteryHigh, "batteryLow must be below batteryHigh")
    precondition(upgradeDwell >= 1 && lateDecisionsToSwitch >= 1, "dwell counts start at 1")
    precondition(ewmaAlpha > 0 && ewmaAlpha <= 1, "the EWMA weight must be in (0, 1]")
    self.sloMs = sloMs
    self.accuracyFloor = accuracyFloor
    self.batch = batch
    self.memoryHeadroom = memoryHeadroom
    self.maxEnergyWeight = maxEnergyWeight
    self.batteryHigh = batteryHigh
    self.batteryLow = batteryLow
    self.upgradeMargin = upgradeMargin
    self.upgradeDwell = upgradeDwell
    self.minimumGain = minimumGain
    self.lateDecisionsToSwitch = lateDecisionsToSwitch
    self.flapDamping = flapDamping
    self.ewmaAlpha = ewmaAlpha
    self.ratioClamp = ratioClamp
    precondition(sloPercentile.map { $0 > 0 && $0 < 1 } ?? true, "the SLO percentile must be in (0, 1)")
    precondition(tailWindow >= 1, "the tail window holds at least one call")
    precondition(tailMarginBounds.lowerBound >= 1, "a tail margin below 1 would shrink predictions")
    self.sloPercentile = sloPercentile
    self.tailWindow = tailWindow
    self.tailMarginBounds = tailMarginBounds
  }

  /// 0 at or above `batteryHigh` (and when the level is unknown or the device is on mains),
  /// `maxEnergyWeight` at or below `batteryLow`, linear between:
  ///
  ///     w(b) = maxEnergyWeight · clamp((batteryHigh − b) / (batteryHigh − batteryLow), 0, 1)
  public func energyWeight(battery: Double?) -> Double {
    guard let b = battery else { return 0 }
    let t = (batteryHigh - b) / (batteryHigh - batteryLow)
    return maxEnergyWeight * min(max(t, 0), 1)
  }

  /// The selector's tests and the "no hysteresis" baseline: every decision takes the ideal choice.
  public static func withoutHysteresis(_ p: Policy) -> Policy {
    var q = p
    q.upgradeMargin = 0
    q.upgradeDwell = 1
    q.minimumGain = 0
    q.lateDecisionsToSwitch = 1
    q.flapDamping = false
    return q
  }

  enum CodingKeys: String, CodingKey {
    case sloMs = "slo_ms", accuracyFloor = "accuracy_floor", batch, memoryHeadroom = "memory_headroom"
    case maxEnergyWeight = "max_energy_weight", batteryHigh = "battery_high", batteryLow = "battery_low"
    case upgradeMargin = "upgrade_margin", upgradeDwell = "upgrade_dwell", minimumGain = "minimum_gain"
    case lateDecisionsToSwitch = "late_decisions_to_switch", flapDamping = "flap_damping"
    case ewmaAlpha = "ewma_alpha"
    case ratioClamp = "ratio_clamp"
    case sloPercentile = "slo_percentile", tailWindow = "tail_window", tailMarginBounds = "tail_margin_bounds"
  }
}
