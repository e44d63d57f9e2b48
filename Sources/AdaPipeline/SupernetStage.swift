import AdaCompress
import AdaNN
import AdaRecipe
import AdaTensor
import Foundation

/// Builds the supernet the recipe describes over the source model and trains it once
/// (checkpointed in `<work>/supernet`; a rerun resumes, a finished run returns at once).
enum SupernetStage {
  /// Supernet options from the recipe; checkpoints every quarter epoch of `trainExamples`.
  static func options(_ recipe: Recipe, trainExamples: Int) -> (SupernetOptions, SupernetTrainingOptions) {
    let s = recipe.supernet
    let blocks: [String]? =
      switch s.blocks {
      case .auto, .hidden: nil
      case .named(let names): names
      }
    let exits: [String]? =
      switch s.exits {
      case .auto: nil
      case .none: []
      case .named(let names): names
      }
    let t = s.training
    return (
      SupernetOptions(
        blocks: blocks, widths: s.widths, branches: s.branches, bits: s.bits, exits: exits, seed: t.seed,
        hiddenOnly: s.blocks == .hidden, elasticDepth: s.elasticDepth, minDepth: s.minDepth,
        resolutions: s.resolutions),
      SupernetTrainingOptions(
        epochs: t.epochs, batchSize: t.batchSize, learningRate: t.learningRate,
        randomSubnets: t.randomSubnets,
        alpha: Float(t.alpha), temperature: Float(t.temperature),
        recalibrationBatches: t.recalibrationBatches,
        seed: t.seed, checkpointEverySteps: max(1, trainExamples / t.batchSize / 4),
        progressive: t.progressive)
    )
  }

  /// Under a budget, the run is planned first (`reserve` maps the measured seconds per step to
  /// the emit reserve); a plan that shortens it trains in `<work>/supernet-<steps>-steps`.
  static func run(
    _ recipe: Recipe, source: Model, data: PipelineData, work: WorkDirectory, budget: BudgetRun?,
    reserve: (Double) -> Double, log: PipelineLog
  ) throws(AdaError) -> (result: SupernetTrainingResult, plan: BudgetPlan.Stage?, directory: String) {
    var (options, training) = options(recipe, trainExamples: data.train.count)
    let supernet: Supernet
    do {
      supernet = try Supernet(source: source, options: options)
    } catch {
      throw error.inFile(recipe.file)
    }
    let branches = supernet.blocks.map { "\($0.name) [\($0.branches.joined(separator: ", "))]" }
    let depth =
      supernet.stages.isEmpty
      ? ""
      : ", elastic depth over \(supernet.stages.count) stages (\(supernet.stages.map { String($0.units.count) }.joined(separator: "/")) residual units)"
    log.stage(
      "supernet: \(supernet.blocks.count) blocks (\(branches.joined(separator: "; "))), widths \(options.widths), "
        + "bits \(options.bits), exits after [\(supernet.exits.joined(separator: ", "))]\(depth)")
    let stepsPerEpoch = data.train.count / training.batchSize
    var directory = "supernet"
    var plan: BudgetPlan.Stage?
    if let budget {
      let recipeSteps = stepsPerEpoch * training.epochs
      let p = try budget.planSupernet(
        recipeSteps: recipeSteps, stepsPerEpoch: stepsPerEpoch, reserve: reserve
      ) {
        () throws(AdaError) in
        try BudgetProbe.supernet(supernet, options: training, data: data, recipeSteps: recipeSteps)
      }
      if p.planned < p.recipe {
        training.plannedSteps = p.planned
        directory = "supernet-\(p.planned)-steps"
      }
      plan = p
    }
    log.stage(
      "supernet: training "
        + (training.plannedSteps.map { "\($0) steps (budget)" } ?? "\(training.epochs) epochs")
        + " on \(data.train.count) examples "
        + "(largest + smallest + \(training.randomSubnets) random configurations per step)")
    do {
      return (
        try train(supernet, training, data: data, work: work, directory: directory, log: log), plan,
        work.path(directory)
      )
    } catch {
      var e = error.inFile(recipe.file)
      if e.path == "configHash" {
        e.hint =
          "the recipe's supernet or data changed since the checkpoint in \(work.path(directory)): rerun with --fresh"
      }
      throw e
    }
  }

  static func train(
    _ supernet: Supernet, _ training: SupernetTrainingOptions, data: PipelineData, work: WorkDirectory,
    directory: String = "supernet", log: PipelineLog
  ) throws(AdaError) -> SupernetTrainingResult {
    var last = Date.distantPast
    let stepsPerEpoch = max(data.train.count / training.batchSize, 1)
    let epochs = training.plannedSteps.map { ($0 + stepsPerEpoch - 1) / stepsPerEpoch } ?? training.epochs
    return try SupernetTrainer(options: training).train(
      supernet, on: data.train, validation: data.searchValidation, calibration: data.calibration,
      checkpointDirectory: work.path(directory), resume: true,
      progress: { event in
        switch event {
        case .resumed(let path, let position):
          if position.epoch >= epochs {
            log.detail("already trained: reusing \(path)")
          } else {
            log.detail("resuming from \(path) at epoch \(position.epoch + 1), step \(position.step + 1)")
          }
        case .step(let epoch, let epochs, let step, let steps, let loss, _):
          if Date().timeIntervalSince(last) > 15 || step == steps {
            last = Date()
            log.detail(String(format: "epoch %d/%d step %d/%d loss %.4f", epoch, epochs, step, steps, loss))
          }
        case .epoch(let r):
          log.detail(
            String(
              format: "epoch %d/%d: loss %.4f, validation accuracy largest %.2f%%, smallest %.2f%% (%.0f s)",
              r.epoch, r.epochs, r.loss, r.largestAccuracy * 100, r.smallestAccuracy * 100, r.seconds))
        }
      })
  }
}
