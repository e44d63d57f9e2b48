import AdaBundle
import AdaRecipe
import AdaTensor
import Foundation

/// A `compress` run under a wall-clock budget: the clock, the stored plan, and what each stage
/// spent. Stages ask it for their plan when they start (`BudgetPlanner` does the arithmetic);
/// a plan already stored in the work directory is used as it is, so a resumed run repeats it.
final class BudgetRun: @unchecked Sendable {
  let budgetSeconds: Double
  let stages: [BudgetPlanner.Stage]
  let planPath: String
  /// The recipe file, named in errors.
  let recipeFile: String
  let log: PipelineLog
  private(set) var plan: BudgetPlan
  private let started = ContinuousClock.now
  /// Manifest rows, in the order the stages finished.
  private(set) var outcome: [Manifest.BudgetStage] = []

  init(
    budgetSeconds: Double, recipe: Recipe, stages: [BudgetPlanner.Stage], work: WorkDirectory,
    log: PipelineLog
  ) throws(AdaError) {
    self.budgetSeconds = budgetSeconds
    self.stages = stages
    self.log = log
    planPath = work.path(BudgetPlan.fileName)
    recipeFile = recipe.file
    let stored = try BudgetPlan.read(planPath)
    if let stored, stored.matches(budgetSeconds: budgetSeconds, recipeHash: recipe.textHash) {
      plan = stored
      log.stage("budget: using the plan stored in \(planPath)")
    } else {
      if stored != nil {
        log.stage("budget: the budget or recipe changed since \(planPath): planning afresh")
      }
      plan = BudgetPlan(budgetSeconds: budgetSeconds, recipeHash: recipe.textHash)
    }
    let reserve = BudgetPlanner.provisionalReserveFraction * budgetSeconds
    let preview = BudgetPlanner.preview(
      remaining: BudgetPlanner.remaining(budget: budgetSeconds, spent: 0, reserve: reserve), stages: stages)
    log.stage(
      "budget \(BudgetPlanner.describe(seconds: budgetSeconds)): "
        + preview.map { "\($0.stage.rawValue) ≤ \(Int($0.seconds)) s" }.joined(separator: ", ")
        + ", emit reserve ~\(Int(reserve)) s (each stage fixes its work from the throughput measured when it starts)"
    )
  }

  var elapsed: Double { BudgetProbe.seconds(since: started) }

  /// Seconds `stage` may spend now: what is left, split among it and the stages after it.
  func allotment(for stage: BudgetPlanner.Stage, reserve: Double) -> Double {
    let index = stages.firstIndex(of: stage) ?? 0
    return BudgetPlanner.allotment(
      for: stage,
      remaining: BudgetPlanner.remaining(budget: budgetSeconds, spent: elapsed, reserve: reserve),
      stages: Array(stages[index...]))
  }

  /// Planned steps of the baseline: stored, or measured by `probe` now (seconds per step, and
  /// the emit reserve estimated from it until the supernet's plan measures it).
  func planBaseline(
    probe: () throws(AdaError) -> (
      recipeSteps: Int, stepsPerEpoch: Int, secondsPerStep: Double, emitReserve: Double
    )
  ) throws(AdaError) -> BudgetPlan.Stage {
    if let p = plan.baseline { return reuse(p, "baseline", unit: "steps") }
    let (recipeSteps, stepsPerEpoch, perStep, reserve) = try probe()
    let seconds = allotment(for: .baseline, reserve: reserve)
    let steps = try located {
      () throws(AdaError) in
      try BudgetPlanner.steps(
        fitting: seconds, secondsPerStep: perStep, stepsPerEpoch: stepsPerEpoch, epochEndSeconds: 0,
        recipeSteps: recipeSteps, stage: .baseline)
    }
    let p = BudgetPlan.Stage(
      allottedSeconds: seconds, planned: steps, recipe: recipeSteps, secondsPerUnit: perStep,
      estimatedSeconds: Double(steps) * perStep)
    plan.baseline = p
    try plan.write(to: planPath)
    log.stage(
      String(
        format:
          "budget: baseline %d of %d steps (%.2f of %d epochs) at %.4f s/step: ~%.0f s of its %.0f s "
          + "(emit reserve estimated ~%.0f s)",
        steps, recipeSteps, Double(steps) / Double(stepsPerEpoch), recipeSteps / max(stepsPerEpoch, 1),
        perStep, p.estimatedSeconds, seconds, reserve))
    return p
  }

  /// Planned supernet steps: stored, or measured by `probe` now; the emit reserve is fixed
  /// with it (`reserve` maps seconds per supernet step to seconds).
  func planSupernet(
    recipeSteps: Int, stepsPerEpoch: Int, reserve: (Double) -> Double,
    probe: () throws(AdaError) -> (secondsPerStep: Double, epochEndSeconds: Double)
  ) throws(AdaError) -> BudgetPlan.Stage {
    if let p = plan.supernet { return reuse(p, "supernet", unit: "steps") }
    let measured = try probe()
    let emitReserve = reserve(measured.secondsPerStep)
    let seconds = allotment(for: .supernet, reserve: emitReserve)
    let steps = try located {
      () throws(AdaError) in
      try BudgetPlanner.steps(
        fitting: seconds, secondsPerStep: measured.secondsPerStep, stepsPerEpoch: stepsPerEpoch,
        epochEndSeconds: measured.epochEndSeconds, recipeSteps: recipeSteps, stage: .supernet)
    }
    let p = BudgetPlan.Stage(
      allottedSeconds: seconds, planned: steps, recipe: recipeSteps, secondsPerUnit: measured.secondsPerStep,
      estimatedSeconds: BudgetPlanner.trainingSeconds(
        steps: steps, secondsPerStep: measured.secondsPerStep, stepsPerEpoch: stepsPerEpoch,
        epochEndSeconds: measured.epochEndSeconds))
    plan.supernet = p
    plan.emitReserveSeconds = emitReserve
    try plan.write(to: planPath)
    log.stage(
      String(
        format: "budget: supernet %d of %d steps (%.2f of %d epochs) at %.3f s/step, %.1f s per epoch end: "
          + "~%.0f s of its %.0f s; emit reserve %.0f s",
        steps, recipeSteps, Double(steps) / Double(stepsPerEpoch), recipeSteps / max(stepsPerEpoch, 1),
        measured.secondsPerStep, measured.epochEndSeconds, p.estimatedSeconds, seconds, emitReserve))
    return p
  }

  /// Generations after the initial one, given the initial one's seconds, and a deadline for
  /// NSGA-II that only a machine much slower than measured reaches (it then ends the search
  /// early, and the plan is not kept). The random-search comparison (`compareRandom`) costs as
  /// much again: under a budget it runs only when NSGA-II gets every generation the recipe
  /// allows and the comparison still fits in the share; otherwise the share goes to NSGA-II.
  func planSearch(
    recipeGenerations: Int, recipeTimeBudget: Double?, initialSeconds: Double, compareRandom: Bool
  ) throws(AdaError) -> (plan: BudgetPlan.Stage, deadline: Double?, compareRandom: Bool) {
    let p: BudgetPlan.Stage
    let compare: Bool
    if let stored = plan.search {
      p = reuse(stored, "search", unit: "generations")
      compare = plan.searchComparesRandom ?? compareRandom
    } else {
      // The initial generation already ran: its seconds are part of the search's allotment.
      let seconds = allotment(for: .search, reserve: plan.emitReserveSeconds ?? 0) + initialSeconds
      let generations = BudgetPlanner.generations(
        fitting: min(seconds, recipeTimeBudget ?? .infinity), secondsPerGeneration: initialSeconds, factor: 1,
        recipeGenerations: recipeGenerations)
      compare =
        compareRandom && generations == recipeGenerations
        && Double(generations + 1) * initialSeconds * 2 <= seconds
      p = BudgetPlan.Stage(
        allottedSeconds: seconds, planned: generations, recipe: recipeGenerations,
        secondsPerUnit: initialSeconds,
        estimatedSeconds: Double(generations + 1) * initialSeconds * (compare ? 2 : 1))
      plan.search = p
      plan.searchComparesRandom = compare
      try plan.write(to: planPath)
      log.stage(
        String(
          format:
            "budget: search %d of %d generations after the initial one (which took %.1f s)%@: ~%.0f s of its %.0f s",
          generations, recipeGenerations, initialSeconds,
          compare
            ? ", then random search as often for comparison"
            : compareRandom ? "; no random-search comparison (the share goes to NSGA-II)" : "",
          p.estimatedSeconds, seconds))
    }
    let deadline = p.allottedSeconds / (compare ? 2 : 1) * 1.5
    return (p, min(deadline, recipeTimeBudget ?? .infinity), compare)
  }

  /// Fine-tune epochs per variant: stored, or planned now from `probe` (seconds of one
  /// fine-tune epoch of every picked variant together, measured on the variants themselves) so
  /// that the emit stage ends within what is left; `otherSeconds` is the rest of the emit
  /// (evaluation, profiling, exits) estimated as the reserve did.
  func planFinetune(
    recipeEpochs: Int, otherSeconds: Double, probe: () throws(AdaError) -> Double
  ) throws(AdaError) -> BudgetPlan.Stage {
    if let p = plan.finetune { return reuse(p, "fine-tune", unit: "epochs per variant") }
    let perEpoch = try probe()
    let seconds = BudgetPlanner.remaining(budget: budgetSeconds, spent: elapsed, reserve: otherSeconds)
    let epochs = BudgetPlanner.finetuneEpochs(
      fitting: seconds, secondsPerEpoch: perEpoch, recipeEpochs: recipeEpochs)
    let p = BudgetPlan.Stage(
      allottedSeconds: seconds, planned: epochs, recipe: recipeEpochs, secondsPerUnit: perEpoch,
      estimatedSeconds: Double(epochs) * perEpoch)
    plan.finetune = p
    try plan.write(to: planPath)
    log.stage(
      String(
        format:
          "budget: fine-tune %d of %d epochs per variant at %.0f s per epoch of all variants: ~%.0f s of %.0f s left",
        epochs, recipeEpochs, perEpoch, p.estimatedSeconds, seconds))
    return p
  }

  /// `body`'s error, naming the recipe file (the budget is its key).
  private func located<T>(_ body: () throws(AdaError) -> T) throws(AdaError) -> T {
    do {
      return try body()
    } catch {
      throw error.inFile(recipeFile)
    }
  }

  private func reuse(_ p: BudgetPlan.Stage, _ stage: String, unit: String) -> BudgetPlan.Stage {
    log.stage(
      "budget: \(stage) \(p.planned) of \(p.recipe) \(unit), as planned before (\(BudgetPlan.fileName))")
    return p
  }

  /// Records a finished stage for the manifest.
  func record(_ row: Manifest.BudgetStage) { outcome.append(row) }

  /// Records a stage planned as `p` (nil: not planned) that ran `run` units in `spent` seconds.
  func record(_ stage: String, _ p: BudgetPlan.Stage?, unit: String, run: Int, spent: Double) {
    record(
      Manifest.BudgetStage(
        stage: stage, plannedSeconds: p?.allottedSeconds, spentSeconds: spent, unit: unit,
        planned: p?.planned,
        run: run, recipe: p?.recipe, secondsPerUnit: p?.secondsPerUnit))
  }

  /// The manifest's `budget`: the recorded stages and `other` (the rest of `total`).
  func summary(total: Double) -> Manifest.Budget {
    let staged = outcome.reduce(0) { $0 + $1.spentSeconds }
    let rows =
      outcome + [
        Manifest.BudgetStage(stage: "other", plannedSeconds: nil, spentSeconds: max(0, total - staged))
      ]
    return Manifest.Budget(budgetSeconds: budgetSeconds, spentSeconds: total, stages: rows)
  }

  /// The closing line, once the bundle is written.
  func finish(total: Double) {
    log.stage(
      String(
        format: "budget %@: spent %.0f s (%.1f%%), %@", BudgetPlanner.describe(seconds: budgetSeconds), total,
        total / budgetSeconds * 100, total <= budgetSeconds ? "within the budget" : "OVER the budget"))
  }
}
