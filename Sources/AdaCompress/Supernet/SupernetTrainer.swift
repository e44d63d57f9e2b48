import AdaCore
import AdaNN
import AdaTensor
import AdaTrain
import Foundation

/// Self-evolving training of a supernet (design.md §5): one run trains every configuration.
///
/// Each step takes one batch and runs the **sandwich rule** (Yu et al., BigNAS / slimmable
/// networks): the largest configuration learns from the labels (cross-entropy); the smallest and
/// `randomSubnets` random ones learn by **in-place distillation** from the largest's logits of
/// the same batch (`DistillationLoss`, weight α, temperature T). Each configuration is
/// materialised, run forward and backward on its own graph, and its gradients are scattered
/// back into the shared store (`Subnet.accumulate`); their sum drives one Adam step on the store.
/// Quantised blocks train straight-through: forward at the quantised weights, update the float
/// ones. Every random choice comes from `(seed, epoch, step)`, so a run resumed from a
/// checkpoint ends bit-identical to an uninterrupted one (at a fixed thread count).
public struct SupernetTrainer {
  public var options: SupernetTrainingOptions

  public init(options: SupernetTrainingOptions) { self.options = options }

  /// Trains `supernet` on `train`; reports validation accuracy of the largest and smallest
  /// configurations (batch-norm recalibrated on `calibration`) after each epoch.
  ///
  /// - Parameters:
  ///   - checkpointDirectory: where `checkpoint.adackpt` (and `history.json`) are written after
  ///     every epoch and every `options.checkpointEverySteps` steps; nil: no checkpoints.
  ///   - resume: continue from the checkpoint there when one exists.
  ///   - stopWhen: asked before every step; true stops the run (a budget, or a simulated kill).
  public func train(
    _ supernet: Supernet, on train: LabeledDataset, validation: LabeledDataset,
    calibration: LabeledDataset, checkpointDirectory: String? = nil, resume: Bool = false,
    progress: (SupernetTrainingEvent) -> Void = { _ in }, stopWhen: ((TrainingPosition) -> Bool)? = nil
  ) throws(AdaError) -> SupernetTrainingResult {
    try options.validate()
    guard train.count >= options.batchSize else {
      throw AdaError(
        .invalidValue, path: "supernet.training.batch-size",
        "batch size \(options.batchSize) exceeds the \(train.count) training examples")
    }
    var state = TrainingState(supernet: supernet, options: options)
    let hash = configHash(supernet, train)
    let checkpointURL = checkpointDirectory.map { Checkpoint.url(in: URL(fileURLWithPath: $0)) }
    if resume, let url = checkpointURL, FileManager.default.fileExists(atPath: url.path) {
      let c = try Checkpoint.read(from: url)
      try c.checkConfigHash(hash, file: url.path)
      guard Set(c.parameters.keys) == Set(supernet.weights.keys) else {
        throw AdaError(.invalidValue, file: url.path, "the checkpoint does not hold this supernet's weights")
      }
      state.restore(c, history: try SupernetHistory.read(next: url))
      progress(.resumed(path: url.path, position: state.position))
    }
    let stepsPerEpoch = train.count / options.batchSize
    let totalSteps = min(options.plannedSteps ?? .max, options.epochs * stepsPerEpoch)
    let epochs = (totalSteps + stepsPerEpoch - 1) / stepsPerEpoch
    state.totalSteps = totalSteps
    let schedule = LearningRateSchedule.cosine(
      initial: options.learningRate, decaySteps: max(totalSteps, 1), floor: 0.05 * options.learningRate)
    let started = Date()
    let sampler = EpochSampler(
      count: train.count, validationFraction: 0, batchSize: options.batchSize, seed: options.seed)
    while state.position.epoch < epochs {
      let order = sampler.order(epoch: state.position.epoch)
      let steps = min(stepsPerEpoch, totalSteps - state.position.epoch * stepsPerEpoch)
      while state.position.step < steps {
        if let stopWhen, stopWhen(state.position) {
          return state.result(completed: false, seconds: Date().timeIntervalSince(started))
        }
        let batch = order[
          (state.position.step * options.batchSize)..<((state.position.step + 1) * options.batchSize)]
        let lr = schedule.learningRate(at: state.position.globalStep)
        let stepStarted = Date()
        let loss = try state.step(batch, of: train, learningRate: lr)
        state.progress.trainSeconds += Date().timeIntervalSince(stepStarted)
        guard loss.isFinite else {
          throw AdaError(
            .nonFinite, path: "supernet.training",
            "the supernet loss became \(loss) at epoch \(state.position.epoch + 1), step \(state.position.step + 1)",
            hint: "lower supernet.training.learning-rate")
        }
        state.position.step += 1
        state.position.globalStep += 1
        progress(
          .step(
            epoch: state.position.epoch + 1, epochs: options.epochs, step: state.position.step,
            steps: stepsPerEpoch, loss: state.progress.meanLoss, learningRate: lr))
        if let url = checkpointURL, let every = options.checkpointEverySteps,
          state.position.globalStep % every == 0, state.position.step < steps
        {
          try state.save(to: url, hash: hash)
        }
      }
      let report = try state.finishEpoch(validation: validation, calibration: calibration)
      progress(.epoch(report))
      if let url = checkpointURL { try state.save(to: url, hash: hash) }
    }
    return state.result(completed: true, seconds: Date().timeIntervalSince(started))
  }

  /// Everything a resumed run must agree on: the supernet (structure and initial weights),
  /// options and data.
  func configHash(_ supernet: Supernet, _ train: LabeledDataset) -> String {
    var h = StableHasher()
    h.combine("adascale-supernet-v1")
    h.combine(json: options)
    h.combine(json: supernet.blocks)
    h.combine(json: supernet.exits)
    h.combine(json: supernet.stages)
    h.combine(json: supernet.resolutions)
    h.combine(supernet.weights)
    h.combine(json: [train.count, train.classCount] + train.exampleShape)
    h.combine(examplesOf: train)
    train.labels.withUnsafeBytes { h.combine(bytes: $0) }
    return h.hexDigest
  }
}

/// Progress of a supernet run.
public enum SupernetTrainingEvent: Sendable {
  case resumed(path: String, position: TrainingPosition)
  /// `loss`: mean loss of the largest configuration over the epoch so far.
  case step(epoch: Int, epochs: Int, step: Int, steps: Int, loss: Double, learningRate: Float)
  case epoch(SupernetEpochReport)
}

/// One finished epoch.
public struct SupernetEpochReport: Codable, Hashable, Sendable {
  public var epoch: Int
  public var epochs: Int
  /// Mean training loss of the largest configuration.
  public var loss: Double
  /// Validation accuracy of the largest and the smallest configuration (BN recalibrated).
  public var largestAccuracy: Double
  public var smallestAccuracy: Double
  /// Seconds spent in training steps (not evaluation), including any before a resume.
  public var seconds: Double
}

/// The trained supernet and its history.
public struct SupernetTrainingResult: Sendable {
  public var supernet: Supernet
  public var history: [SupernetEpochReport]
  public var position: TrainingPosition
  public var completed: Bool
  /// Wall-clock seconds of this invocation (not counting time before a resume).
  public var seconds: Double
}
