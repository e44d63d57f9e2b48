import AdaTensor
import Foundation

/// How a wall-clock budget (`budget:`) is divided among the stages of `compress`, as pure
/// functions of measured speeds: no clock is read here, so the arithmetic is testable.
///
/// When a stage starts, it gets a share of what is *left*: the budget minus the seconds already
/// spent, the emit reserve and a safety slack, split among this stage and the budgeted stages
/// after it in proportion to their weights. A stage that finishes early or late therefore moves
/// the difference onto the stages after it, and the last one (the search) absorbs the error of
/// every estimate before it. The shares (docs/algorithms.md explains them):
///
/// | stage | weight | why |
/// |---|---|---|
/// | baseline | 1 | a baseline within a point of its best takes a fraction of the supernet's steps |
/// | supernet | 2 | every variant's accuracy comes from it; its steps cost 2 + random-subnets passes |
/// | search | 1 | NSGA-II's front is nearly final after a few generations (docs/search.md) |
/// | overhead | 1.5 | `--measure-overhead` fine-tunes every variant on its own, up to 3 epochs each |
///
///     BudgetPlanner.allotment(for: .baseline, remaining: 500, stages: [.baseline, .supernet, .search])
///     // 125: a quarter of what is left
public enum BudgetPlanner {
  /// A stage whose length the budget decides.
  public enum Stage: String, Codable, Hashable, Sendable, CaseIterable {
    case baseline, supernet, search, overhead

    public var weight: Double {
      switch self {
      case .baseline: 1
      case .supernet: 2
      case .search: 1
      case .overhead: 1.5
      }
    }
  }

  /// Fraction of the budget kept back for what no stage plans (bundle writing, the evaluations
  /// between stages, load changing while a stage runs).
  public static let slackFraction = 0.02
  /// The emit reserve assumed before anything has been measured, as a fraction of the budget.
  public static let provisionalReserveFraction = 0.10
  /// The measured emit cost is multiplied by this before it is reserved.
  public static let reserveMargin = 1.1
  /// A training stage is planned at least `min(this, the recipe's steps)` steps; a budget that
  /// buys fewer is an error (a dozen sandwich steps train nothing worth shipping).
  public static let minimumSteps = 50

  /// Seconds for `stage`: `remaining` split among `stages` (this one and the budgeted ones after
  /// it, in order) by weight. `remaining` is what is left after the spent time, the emit reserve
  /// and the slack; never negative.
  public static func allotment(for stage: Stage, remaining: Double, stages: [Stage]) -> Double {
    precondition(stages.contains(stage), "BudgetPlanner: \(stage) is not among \(stages)")
    let total = stages.reduce(0) { $0 + $1.weight }
    return max(0, remaining) * stage.weight / total
  }

  /// What is left to divide: budget − spent − reserve − slack.
  public static func remaining(budget: Double, spent: Double, reserve: Double) -> Double {
    max(0, budget - spent - reserve - slackFraction * budget)
  }

  /// Every stage's seconds if each spent exactly its allotment: the preview printed at the start.
  /// The values add up to `remaining`.
  public static func preview(remaining: Double, stages: [Stage]) -> [(stage: Stage, seconds: Double)] {
    var left = remaining
    var out: [(stage: Stage, seconds: Double)] = []
    for (i, stage) in stages.enumerated() {
      let seconds = allotment(for: stage, remaining: left, stages: Array(stages[i...]))
      out.append((stage, seconds))
      left -= seconds
    }
    return out
  }

  /// Seconds a training run of `steps` steps takes: the steps plus the fixed cost at the end of
  /// every epoch begun (evaluation, checkpoint).
  public static func trainingSeconds(
    steps: Int, secondsPerStep: Double, stepsPerEpoch: Int, epochEndSeconds: Double
  ) -> Double {
    let epochs = stepsPerEpoch > 0 ? (steps + stepsPerEpoch - 1) / stepsPerEpoch : 0
    return Double(steps) * secondsPerStep + Double(epochs) * epochEndSeconds
  }

  /// The most steps (≤ `recipeSteps`, the recipe's epochs × steps per epoch) whose
  /// `trainingSeconds` fit in `seconds`.
  ///
  /// - Throws: `AdaError` at `budget` when that is fewer than `min(minimumSteps, recipeSteps)`.
  public static func steps(
    fitting seconds: Double, secondsPerStep: Double, stepsPerEpoch: Int, epochEndSeconds: Double,
    recipeSteps: Int, stage: Stage
  ) throws(AdaError) -> Int {
    precondition(secondsPerStep > 0 && recipeSteps >= 1, "BudgetPlanner: bad measurement")
    func cost(_ n: Int) -> Double {
      trainingSeconds(
        steps: n, secondsPerStep: secondsPerStep, stepsPerEpoch: stepsPerEpoch,
        epochEndSeconds: epochEndSeconds)
    }
    // Largest n in 0…recipeSteps with cost(n) ≤ seconds (cost is increasing in n).
    var lo = 0
    var hi = recipeSteps
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if cost(mid) <= seconds { lo = mid } else { hi = mid - 1 }
    }
    let floor = min(minimumSteps, recipeSteps)
    guard lo >= floor else {
      throw AdaError(
        .invalidValue, path: "budget",
        String(
          format: "the %@ stage's share of the budget is %.0f s, which buys %d steps at %.3f s per step; "
            + "at least %d are needed (%.0f s)", stage.rawValue, seconds, lo, secondsPerStep, floor,
          cost(floor)),
        hint: "raise budget (or pass a larger --budget); finished stages are reused from the work directory")
    }
    return lo
  }

  /// Generations after the initial one (≤ `recipeGenerations`) that fit in `seconds` when the
  /// initial generation took `secondsPerGeneration` and each later one is assumed to take as
  /// long, `factor` times over (2 when random search repeats the evaluations for comparison).
  /// The initial generation has already run: its time counts against `seconds`. Never negative.
  public static func generations(
    fitting seconds: Double, secondsPerGeneration: Double, factor: Double, recipeGenerations: Int
  ) -> Int {
    precondition(secondsPerGeneration >= 0 && factor >= 1, "BudgetPlanner: bad measurement")
    guard secondsPerGeneration > 0 else { return recipeGenerations }
    let fit = Int((seconds / (secondsPerGeneration * factor)).rounded(.down)) - 1
    return max(0, min(recipeGenerations, fit))
  }

  /// Seconds to keep for emitting `variants` variants: each costs about what the source's test
  /// evaluation and profile cost (a variant is no larger), plus its fine-tuning, times
  /// `reserveMargin`. The fine-tuning's part is at most `finetuneShare` of `budget`: the emit
  /// stage plans its epochs from the variants' measured speed and what is left then
  /// (`finetuneEpochs`), so an estimate made before any variant exists does not starve the
  /// supernet.
  public static func emitReserve(
    variants: Int, secondsPerVariant: Double, finetuneSecondsPerVariant: Double, budget: Double = .infinity
  ) -> Double {
    let finetune = min(Double(variants) * finetuneSecondsPerVariant * reserveMargin, finetuneShare * budget)
    return Double(variants) * secondsPerVariant * reserveMargin + finetune
  }

  /// The most of a budget the fine-tune's reserve may hold.
  public static let finetuneShare = 0.3

  /// Fine-tune epochs per variant: the most, up to the recipe's, whose `secondsPerEpoch` (one
  /// epoch of every variant together) times `reserveMargin` fit in `seconds`; 0 when not one
  /// does (the variants then ship as the supernet left them).
  ///
  ///     BudgetPlanner.finetuneEpochs(fitting: 300, secondsPerEpoch: 60, recipeEpochs: 10)  // 4
  public static func finetuneEpochs(fitting seconds: Double, secondsPerEpoch: Double, recipeEpochs: Int)
    -> Int
  {
    precondition(secondsPerEpoch >= 0, "BudgetPlanner: bad measurement")
    guard secondsPerEpoch > 0 else { return recipeEpochs }
    let fit = Int((max(0, seconds) / (secondsPerEpoch * reserveMargin)).rounded(.down))
    return max(0, min(recipeEpochs, fit))
  }

  /// `10m`, `90s`, `1.5h`: a duration as the recipe would write it.
  public static func describe(seconds: Double) -> String {
    if seconds >= 3600, (seconds / 360).rounded() == seconds / 360 { return "\(format(seconds / 3600))h" }
    if seconds >= 60, (seconds / 6).rounded() == seconds / 6 { return "\(format(seconds / 60))m" }
    return "\(format(seconds))s"
  }

  private static func format(_ x: Double) -> String {
    x == x.rounded() ? String(Int(x)) : String(format: "%.1f", x)
  }
}
