import AdaCompress
import AdaNN
import AdaTensor
import AdaTrain
import Foundation

/// Measures what a budget plans from: seconds per training step, timed on a throwaway run of a
/// few steps (no checkpoint; its weights are discarded, so the real run starts from step 0 with
/// the planned schedule and does not depend on the measurement's noise).
enum BudgetProbe {
  /// Steps run before timing starts (first steps allocate buffers and materialise
  /// configurations) and steps timed, for the baseline and the supernet.
  static let baselineSteps = (warmup: 3, timed: 20)
  static let supernetSteps = (warmup: 2, timed: 10)

  /// Seconds per optimizer step of `config` on `model`.
  static func baseline(
    _ model: Model, config: TrainConfig, on data: LabeledDataset, recipeSteps: Int, stepsPerEpoch: Int
  ) throws(AdaError) -> Double {
    var config = config
    config.checkpointDirectory = nil
    config.resume = false
    let clock = StepClock(recipeSteps: recipeSteps, stepsPerEpoch: stepsPerEpoch, steps: baselineSteps)
    let started = ContinuousClock.now
    let r = try Trainer(config: config).fit(model, on: data, stopWhen: clock.stopWhen)
    return clock.secondsPerStep(orElse: seconds(since: started), steps: r.position.globalStep)
  }

  /// Seconds per sandwich step, and seconds per epoch end (validation accuracy of the largest
  /// and the smallest configuration: timed on the largest, counted twice).
  static func supernet(
    _ supernet: Supernet, options: SupernetTrainingOptions, data: PipelineData, recipeSteps: Int
  ) throws(AdaError) -> (secondsPerStep: Double, epochEndSeconds: Double) {
    var options = options
    options.plannedSteps = nil
    let clock = StepClock(
      recipeSteps: recipeSteps, stepsPerEpoch: data.train.count / options.batchSize, steps: supernetSteps)
    let trainingStarted = ContinuousClock.now
    let r = try SupernetTrainer(options: options).train(
      supernet, on: data.train, validation: data.searchValidation, calibration: data.calibration,
      stopWhen: clock.stopWhen)
    let perStep = clock.secondsPerStep(orElse: seconds(since: trainingStarted), steps: r.position.globalStep)
    let evaluator = SubnetEvaluator(
      supernet: supernet, calibration: data.calibration, batchSize: options.batchSize,
      recalibrationBatches: options.recalibrationBatches)
    let started = ContinuousClock.now
    _ = try evaluator.accuracy(of: supernet.largest, on: data.searchValidation)
    return (perStep, 2 * seconds(since: started))
  }

  static func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
  }
}

/// A `stopWhen` that times steps `warmup ..< warmup + timed` of a run and then stops it, inside
/// the first epoch (so no epoch-end evaluation is timed as a step) and the recipe's run.
final class StepClock: @unchecked Sendable {
  let warmup: Int
  let total: Int
  private var timedFrom: ContinuousClock.Instant?
  private var measured: Double?

  init(recipeSteps: Int, stepsPerEpoch: Int, steps: (warmup: Int, timed: Int)) {
    total = max(1, min(steps.warmup + steps.timed, recipeSteps, stepsPerEpoch - 1))
    warmup = min(steps.warmup, total - 1)
  }

  /// Asked before every step with the number of steps done so far.
  func stopWhen(_ position: TrainingPosition) -> Bool {
    if position.globalStep == warmup { timedFrom = ContinuousClock.now }
    guard position.globalStep >= total, let from = timedFrom else { return false }
    measured = BudgetProbe.seconds(since: from) / Double(total - warmup)
    return true
  }

  /// The timed seconds per step; for a run too short to reach the timed steps, `elapsed` over
  /// the `steps` it ran.
  func secondsPerStep(orElse elapsed: Double, steps: Int) -> Double {
    max(measured ?? elapsed / Double(max(steps, 1)), 1e-6)
  }
}
