import AdaNN
import AdaTensor
import Foundation

/// The mutable state of a run and its step/epoch loop. Everything the loop reuses (gradient
/// store, batch buffer, augmentation scratch) is allocated once; a step allocates only what the
/// layers themselves allocate.
struct TrainingLoop {
  let setup: FitSetup
  let config: TrainConfig
  let objective: any TrainingObjective
  let dataset: LabeledDataset

  var parameters: Parameters
  /// dLoss/dParameter, same keys as `parameters`; zeroed in place before every backward.
  var gradients: Parameters
  let gradientKeys: [String]
  var optimizer: any Optimizer
  var position = TrainingPosition()
  var progress = EpochProgress()
  var history: [EpochReport] = []
  var buffer: BatchBuffer
  /// The teacher's batch when it reads its own inputs (`Distillation.teacherInputs`).
  var teacherBuffer: BatchBuffer?
  var augmenter: Augmenter
  /// Trainable keys to update, by which outputs received a gradient (usually one entry).
  var keysByGradientPattern: [[Bool]: [String]] = [:]

  init(
    setup: FitSetup, config: TrainConfig, objective: any TrainingObjective, dataset: LabeledDataset,
    parameters: Parameters
  ) {
    self.setup = setup
    self.config = config
    self.objective = objective
    self.dataset = dataset
    self.parameters = parameters
    gradients = parameters.zerosLike()
    gradientKeys = gradients.keys
    optimizer = config.optimizer.makeOptimizer()
    buffer = BatchBuffer(exampleShape: dataset.exampleShape)
    teacherBuffer = config.distillation?.teacherInputs.map { BatchBuffer(exampleShape: $0.exampleShape) }
    augmenter = Augmenter(config: config.augmentation)
  }

  mutating func restore(from c: Checkpoint) {
    parameters = c.parameters
    optimizer.state = c.optimizer
    position = c.position
    progress = c.epochProgress
    history = c.history
  }

  /// Runs until `config.epochs` are done (true) or `stopWhen` says stop (false).
  mutating func run(
    reporter: any ProgressReporter, stopWhen: ((TrainingPosition) -> Bool)?,
    checkpoint: (url: URL, configHash: String)?
  ) throws(AdaError) -> Bool {
    let steps = setup.sampler.stepsPerEpoch
    while position.epoch < config.epochs {
      let epochStart = monotonicSeconds() - progress.elapsedSeconds
      let order = setup.sampler.order(epoch: position.epoch)
      var learningRate = config.schedule.learningRate(at: position.globalStep)
      while position.step < steps {
        if let stopWhen, stopWhen(position) { return false }
        let t0 = monotonicSeconds()
        learningRate = config.schedule.learningRate(at: optimizer.state.iterations)
        let (loss, correct, n) = try step(
          setup.sampler.batch(position.step, of: order), learningRate: learningRate)
        guard loss.isFinite else { throw diverged("the loss became \(loss)") }
        let t1 = monotonicSeconds()
        progress.lossSum += Double(loss) * Double(n)
        progress.correct += correct
        progress.seen += n
        progress.trainSeconds += t1 - t0
        progress.elapsedSeconds = t1 - epochStart
        position.step += 1
        position.globalStep += 1
        reporter.report(
          .step(
            StepReport(
              epoch: position.epoch + 1, epochs: config.epochs, step: position.step, steps: steps,
              globalStep: position.globalStep, loss: loss, meanLoss: progress.meanLoss,
              accuracy: progress.accuracy, learningRate: learningRate,
              imagesPerSecond: progress.imagesPerSecond, elapsedSeconds: progress.elapsedSeconds)))
        if let checkpoint, let every = config.checkpointEverySteps,
          position.globalStep % every == 0, position.step < steps
        {
          try save(checkpoint, reporter: reporter)
        }
      }
      try checkParametersFinite()
      var report = EpochReport(
        epoch: position.epoch + 1, epochs: config.epochs, loss: progress.meanLoss,
        accuracy: progress.accuracy, validationLoss: nil, validationAccuracy: nil,
        learningRate: learningRate, imagesPerSecond: progress.imagesPerSecond, elapsedSeconds: 0)
      if !setup.sampler.validationIndices.isEmpty {
        let v = try evaluateBatches(
          executor: setup.executor, logits: setup.split.softmaxRemoved,
          parameters: config.parameterProjection?.projecting(parameters) ?? parameters,
          dataset: dataset, indices: setup.sampler.validationIndices, batchSize: config.batchSize,
          objective: objective, buffer: &buffer)
        report.validationLoss = v.loss
        report.validationAccuracy = v.accuracy
      }
      report.elapsedSeconds = monotonicSeconds() - epochStart
      history.append(report)
      reporter.report(.epoch(report))
      position.epoch += 1
      position.step = 0
      progress = EpochProgress()
      if let checkpoint { try save(checkpoint, reporter: reporter) }
    }
    return true
  }

  /// One optimizer step on the examples at `indices`: returns (batch loss, correct, batch size).
  mutating func step(_ indices: ArraySlice<Int>, learningRate: Float) throws(AdaError) -> (Float, Int, Int) {
    try buffer.fill(from: dataset, indices: indices)
    if let inputs = config.distillation?.teacherInputs {
      try teacherBuffer!.fill(from: inputs, indices: indices)
    }
    if augmenter.config.isEnabled {
      var g = RandomStream.augmentation.generator(config.seed, epoch: position.epoch, step: position.step)
      buffer.augment(with: &augmenter, using: &g)
    }
    let (loss, correct, pattern) = forwardBackward(buffer.images, labels: buffer.labels)
    if keysByGradientPattern[pattern] == nil {
      keysByGradientPattern[pattern] = setup.trainableKeys(reaching: pattern)
    }
    optimizer.apply(
      gradients: gradients, to: &parameters, keys: keysByGradientPattern[pattern]!,
      learningRate: learningRate, weightDecay: config.weightDecay)
    return (loss, correct, indices.count)
  }

  /// Forward (training mode), objective, backward into `gradients`. The trace (and every
  /// reference it holds to parameters and activations) dies here, before the optimizer writes
  /// the parameters in place. Returns (loss, correct, which outputs received a gradient).
  private mutating func forwardBackward(_ x: Tensor, labels: [Int32]) -> (Float, Int, [Bool]) {
    for key in gradientKeys { gradients.tensors[key]!.fill(0) }
    var context = ForwardContext(
      training: true, needsBackward: true,
      seed: RandomStream.dropout.seed(config.seed, epoch: position.epoch, step: position.step))
    // Straight-through: forward and backward see the projected weights, the optimizer updates
    // the shadow weights restored below with the gradient computed at the projection.
    let shadow = config.parameterProjection?.project(&parameters) ?? [:]
    defer { config.parameterProjection?.restore(shadow, into: &parameters) }
    let trace = setup.executor.forward(x, parameters: &parameters, context: &context)
    let result = objective.evaluate(
      ObjectiveBatch(
        outputs: trace.outputs, outputsAreLogits: setup.split.softmaxRemoved, labels: labels,
        teacherOutputs: setup.teacher?.predict(teacherBuffer?.images ?? x),
        teacherOutputsAreLogits: setup.teacher?.logits ?? [],
        distillation: config.distillation?.weights),
      needsGradient: true)
    setup.executor.backward(
      trace, outputGradients: result.gradients, parameters: parameters, gradients: &gradients)
    return (
      result.loss, correctPredictions(trace.outputs[0], labels: labels), result.gradients.map { $0 != nil }
    )
  }

  /// Batch-norm can keep the loss finite while weights or moving statistics overflow, so the
  /// parameters are checked too (once per epoch and before every checkpoint: O(parameters)).
  func checkParametersFinite() throws(AdaError) {
    for key in parameters.keys {
      if let t = parameters.tensors[key], t.hasNonFinite { throw diverged("\(key) became non-finite") }
    }
  }

  func diverged(_ what: String) -> AdaError {
    AdaError(
      .nonFinite, path: "train",
      "\(what) at epoch \(position.epoch + 1), step \(position.step + 1): training diverged",
      hint: "lower the learning rate (--lr); the last checkpoint, if any, predates the divergence")
  }

  private func save(_ target: (url: URL, configHash: String), reporter: any ProgressReporter) throws(AdaError)
  {
    try checkParametersFinite()
    let c = Checkpoint(
      configHash: target.configHash, seed: config.seed, position: position, epochProgress: progress,
      history: history, optimizerKind: optimizer.config.kindName, optimizer: optimizer.state,
      parameters: parameters)
    try c.write(to: target.url)
    reporter.report(.checkpoint(CheckpointReport(path: target.url.path, position: position)))
  }
}
