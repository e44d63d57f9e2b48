import AdaNN
import AdaTensor
import AdaTrain
import Foundation

/// The mutable state of a supernet run: shared weights, gradient buffers, optimizer, position,
/// and the configurations materialised so far.
struct TrainingState {
  var supernet: Supernet
  let options: SupernetTrainingOptions
  let trainableKeys: [String]
  var gradients: Parameters
  var optimizer: any Optimizer
  var position = TrainingPosition()
  /// Steps of the whole run (progressive shrinking opens the space over a fraction of them).
  var totalSteps = 0
  var progress = EpochProgress()
  var history: [SupernetEpochReport] = []
  var buffer: BatchBuffer?
  /// Batch buffers of the other resolutions (elastic resolution), by resolution.
  var resizedBuffers: [Int: BatchBuffer] = [:]
  var epochStarted = Date()
  /// Materialised configurations with their executors, by config key.
  var prepared: [String: PreparedSubnet] = [:]

  init(supernet: Supernet, options: SupernetTrainingOptions) {
    self.supernet = supernet
    self.options = options
    trainableKeys = supernet.trainableKeys
    var g = Parameters()
    for key in trainableKeys { g.tensors[key] = Tensor(shape: supernet.weights.tensors[key]!.shape) }
    gradients = g
    optimizer = OptimizerConfig.adam().makeOptimizer()
  }

  /// One sandwich step on the examples at `indices`; returns the largest configuration's loss.
  mutating func step(
    _ indices: ArraySlice<Int>, of data: LabeledDataset, learningRate: Float
  ) throws(AdaError) -> Float {
    if buffer == nil { buffer = BatchBuffer(exampleShape: data.exampleShape) }
    let x = try buffer!.fill(from: data, indices: indices)
    let labels = buffer!.labels
    for key in trainableKeys { gradients.tensors[key]!.fill(0) }

    var g = SeededGenerator(
      seed: RandomStream.shuffle.seed(options.seed &+ 0x5EED, epoch: position.epoch, step: position.step + 1))
    let open = options.openness(atStep: position.globalStep, of: totalSteps)
    var configs = [supernet.largest, supernet.smallest(openness: open)]
    for _ in 0..<options.randomSubnets { configs.append(supernet.random(using: &g, openness: open)) }
    let distillation = DistillationLoss(temperature: options.temperature, alpha: options.alpha)

    var teacherLogits = Tensor(shape: [])
    var largestLoss: Float = 0
    for (k, config) in configs.enumerated() {
      let sub = try prepare(config)
      var input = x
      if let r = config.resolution, r != data.exampleShape.first {
        let resized = try supernet.inputs(data, for: config)
        if resizedBuffers[r] == nil { resizedBuffers[r] = BatchBuffer(exampleShape: resized.exampleShape) }
        input = try resizedBuffers[r]!.fill(from: resized, indices: indices)
      }
      var params = try sub.parameters(from: supernet.weights)
      var context = ForwardContext(
        training: true, needsBackward: true,
        seed: RandomStream.dropout.seed(options.seed, epoch: position.epoch, step: position.step) &+ UInt64(k)
      )
      let trace = sub.executor.forward(input, parameters: &params, context: &context)
      let logits = trace.outputs[0]
      let dLogits: Tensor
      if k == 0 {
        let (loss, d) = SoftmaxCrossEntropy().evaluate(logits: logits, labels: labels)
        largestLoss = loss
        dLogits = d
        teacherLogits = logits
        progress.lossSum += Double(loss) * Double(labels.count)
        progress.correct += correctPredictions(logits, labels: labels)
        progress.seen += labels.count
      } else {
        dLogits =
          distillation.evaluate(studentLogits: logits, teacherLogits: teacherLogits, labels: labels)
          .dStudentLogits
      }
      var grads = Parameters()
      sub.executor.backward(trace, outputGradients: [dLogits], parameters: params, gradients: &grads)
      sub.subnet.accumulate(grads, into: &gradients)
    }
    optimizer.apply(
      gradients: gradients, to: &supernet.weights, keys: trainableKeys, learningRate: learningRate,
      weightDecay: 0)
    if prepared.count > 64 {
      prepared = prepared.filter { $0.key == configs[0].description || $0.key == configs[1].description }
    }
    return largestLoss
  }

  /// A materialised configuration with its executor (cached by config key).
  mutating func prepare(_ config: SubnetConfig) throws(AdaError) -> PreparedSubnet {
    if let p = prepared[config.description] { return p }
    let subnet = try supernet.materialize(config)
    let split = subnet.graph.splittingFinalSoftmax()
    let p = PreparedSubnet(subnet: subnet, executor: try Executor(graph: split.graph))
    prepared[config.description] = p
    return p
  }

  /// Closes an epoch: evaluates the largest and smallest configurations, records the report.
  mutating func finishEpoch(
    validation: LabeledDataset, calibration: LabeledDataset
  ) throws(AdaError) -> SupernetEpochReport {
    let evaluator = SubnetEvaluator(
      supernet: supernet, calibration: calibration, batchSize: options.batchSize,
      recalibrationBatches: options.recalibrationBatches)
    let report = SupernetEpochReport(
      epoch: position.epoch + 1, epochs: options.epochs, loss: progress.meanLoss,
      largestAccuracy: try evaluator.accuracy(of: supernet.largest, on: validation),
      smallestAccuracy: try evaluator.accuracy(of: supernet.smallest, on: validation),
      seconds: progress.trainSeconds)
    history.append(report)
    position.epoch += 1
    position.step = 0
    progress = EpochProgress()
    epochStarted = Date()
    return report
  }

  /// Writes the history, then the checkpoint (so a kill between the two leaves a history that
  /// `restore` trims to the checkpoint's position).
  func save(to url: URL, hash: String) throws(AdaError) {
    try SupernetHistory.write(history, next: url)
    try Checkpoint(
      configHash: hash, seed: options.seed, position: position, epochProgress: progress, history: [],
      optimizerKind: optimizer.config.kindName, optimizer: optimizer.state, parameters: supernet.weights
    ).write(to: url)
  }

  mutating func restore(_ c: Checkpoint, history: [SupernetEpochReport]) {
    supernet.weights = c.parameters
    optimizer.state = c.optimizer
    position = c.position
    progress = c.epochProgress
    self.history = Array(history.prefix(c.position.epoch))
  }

  func result(completed: Bool, seconds: Double) -> SupernetTrainingResult {
    SupernetTrainingResult(
      supernet: supernet, history: history, position: position, completed: completed, seconds: seconds)
  }
}

/// A configuration ready to train: its subnet and an executor for its graph with the final
/// softmax split off (so the losses see logits).
struct PreparedSubnet {
  let subnet: Subnet
  let executor: Executor

  /// The subnet's weights from `store`, quantised blocks on their grid (straight-through).
  func parameters(from store: Parameters) throws(AdaError) -> Parameters {
    let p = subnet.parameters(from: store)
    guard !subnet.quantization.isEmpty else { return p }
    return try subnet.quantize(Model(graph: subnet.graph, parameters: p)).model.parameters
  }
}

/// The epoch reports of a run, kept next to its checkpoint (`history.json`).
enum SupernetHistory {
  static func url(next checkpoint: URL) -> URL {
    checkpoint.deletingLastPathComponent().appendingPathComponent("history.json")
  }

  static func write(_ history: [SupernetEpochReport], next checkpoint: URL) throws(AdaError) {
    let url = url(next: checkpoint)
    do {
      try FileManager.default.createDirectory(
        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      let data = try JSONEncoder().encode(history)
      try data.write(to: url, options: .atomic)
    } catch {
      throw AdaError(.writeFailed, file: url.path, "cannot write the supernet history: \(error)")
    }
  }

  static func read(next checkpoint: URL) throws(AdaError) -> [SupernetEpochReport] {
    let url = url(next: checkpoint)
    guard FileManager.default.fileExists(atPath: url.path) else { return [] }
    do {
      return try JSONDecoder().decode([SupernetEpochReport].self, from: Data(contentsOf: url))
    } catch {
      throw AdaError(.badFormat, file: url.path, "cannot read the supernet history: \(error)")
    }
  }
}
