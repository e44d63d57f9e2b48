import AdaNN
import AdaTensor
import Foundation

/// Trains a model on a labelled dataset: the fit loop with validation, progress, checkpoints
/// and bit-identical resume.
///
/// Each step: fill the batch buffer → augment → `Executor.forward(training)` on the graph with
/// its final softmax split off (`Graph.splittingFinalSoftmax()`) → objective (loss and dLoss/dLogits,
/// the fused softmax-cross-entropy gradient) → `Executor.backward` → optimizer update of the
/// trainable parameters. Every random choice comes from `(seed, epoch, step)` (`RandomStream`).
///
///     let trainer = Trainer(config: config, objective: objective, reporter: TerminalProgressBar())
///     let result = try trainer.fit(model, on: train)
///     let test = try trainer.evaluate(result.model, on: testSet, batchSize: 256)
public struct Trainer {
  public let config: TrainConfig
  public let objective: any TrainingObjective
  public let reporter: any ProgressReporter

  public init(
    config: TrainConfig, objective: any TrainingObjective = ClassificationObjective(),
    reporter: any ProgressReporter = SilentReporter()
  ) {
    self.config = config
    self.objective = objective
    self.reporter = reporter
  }

  /// Trains `model` for `config.epochs` epochs (continuing from the checkpoint when
  /// `config.resume` and one exists) and returns the trained model with the epoch history.
  /// With `config.parameterProjection`, the returned weights are the projected ones.
  ///
  /// - Parameter stopWhen: asked before every step with the position about to run; returning
  ///   true stops the run there (`completed == false`) — a budget, or a simulated kill in tests.
  /// - Throws: `AdaError` for an invalid config, a model/dataset mismatch, an unreadable or
  ///   foreign checkpoint (config hash differs), or a failed checkpoint write.
  public func fit(
    _ model: Model, on dataset: LabeledDataset, stopWhen: ((TrainingPosition) -> Bool)? = nil
  ) throws(AdaError) -> TrainResult {
    try config.validate()
    let setup = try FitSetup(config: config, model: model, dataset: dataset)
    var loop = TrainingLoop(
      setup: setup, config: config, objective: objective, dataset: dataset, parameters: model.parameters)
    var resumedFrom: String?
    let checkpointURL = config.checkpointDirectory.map { Checkpoint.url(in: URL(fileURLWithPath: $0)) }
    let hash = config.configHash(model: model, dataset: dataset)
    if config.resume, let url = checkpointURL, FileManager.default.fileExists(atPath: url.path) {
      let checkpoint = try Checkpoint.read(from: url)
      try checkpoint.checkConfigHash(hash, file: url.path)
      do {
        try Model(graph: model.graph, parameters: checkpoint.parameters).validate()
      } catch {
        throw error.inFile(url.path)
      }
      loop.restore(from: checkpoint)
      resumedFrom = url.path
    }
    reporter.report(
      .started(
        TrainingPlan(
          epochs: config.epochs, stepsPerEpoch: setup.sampler.stepsPerEpoch, batchSize: config.batchSize,
          trainExamples: setup.sampler.trainIndices.count,
          validationExamples: setup.sampler.validationIndices.count,
          start: loop.position, resumedFrom: resumedFrom)))
    let started = monotonicSeconds()
    let completed = try loop.run(
      reporter: reporter, stopWhen: stopWhen,
      checkpoint: checkpointURL.map { (url: $0, configHash: hash) })
    reporter.report(
      .finished(
        TrainingSummary(
          position: loop.position, completed: completed, elapsedSeconds: monotonicSeconds() - started)))
    let trained = config.parameterProjection?.projecting(loop.parameters) ?? loop.parameters
    return TrainResult(
      model: Model(graph: model.graph, parameters: trained), history: loop.history,
      position: loop.position, completed: completed)
  }
}

/// What `fit` returns.
public struct TrainResult: Sendable {
  /// The original graph with the trained parameters.
  public var model: Model
  /// One report per finished epoch (including epochs finished before a resume).
  public var history: [EpochReport]
  /// The next step that would run (`epoch == epochs`, `step == 0` when completed).
  public var position: TrainingPosition
  /// False when `stopWhen` stopped the run early.
  public var completed: Bool
}

/// The checked, derived pieces of a run that do not change while it runs.
struct FitSetup {
  let split: SoftmaxSplit
  let executor: Executor
  let sampler: EpochSampler
  /// Trainable parameter keys, sorted: the only ones the optimizer touches.
  let trainableKeys: [String]
  /// Node name of each trainable key.
  let trainableNodes: [String]
  let teacher: TeacherRunner?

  init(config: TrainConfig, model: Model, dataset: LabeledDataset) throws(AdaError) {
    try model.validate()
    try Self.check(dataset, against: model.graph, name: "model")
    guard dataset.count > 0 else {
      throw AdaError(.invalidValue, path: dataset.name, "the dataset has no examples")
    }
    if let bad = dataset.labels.firstIndex(where: { $0 < 0 || Int($0) >= dataset.classCount }) {
      throw AdaError(
        .invalidValue, path: "\(dataset.name)/labels[\(bad)]",
        "label \(dataset.labels[bad]) is outside 0..<\(dataset.classCount)")
    }
    if config.augmentation.isEnabled && dataset.exampleShape.count != 3 {
      throw AdaError(
        .invalidValue, path: "train.augmentation",
        "crop and flip need [H, W, C] images, the dataset's examples are \(dataset.exampleShape)")
    }
    split = model.graph.splittingFinalSoftmax()
    executor = try Executor(graph: split.graph)
    sampler = EpochSampler(
      count: dataset.count, validationFraction: config.validationFraction,
      batchSize: config.batchSize, seed: config.seed)
    guard !sampler.trainIndices.isEmpty else {
      throw AdaError(
        .invalidValue, path: "train.validationFraction",
        "no training examples are left after holding out \(config.validationFraction) of \(dataset.count)")
    }
    let trainable = try Self.trainableParameters(model.graph)
    trainableKeys = trainable.map(\.key)
    trainableNodes = trainable.map(\.node)
    if let d = config.distillation {
      try d.teacher.validate()
      try d.checkTeacherInputs(pairedWith: dataset, augmented: config.augmentation.isEnabled)
      try Self.check(d.teacherInputs ?? dataset, against: d.teacher.graph, name: "teacher")
      teacher = try TeacherRunner(d.teacher)
    } else {
      teacher = nil
    }
  }

  /// Input shape and `[classCount]` outputs.
  static func check(_ dataset: LabeledDataset, against graph: Graph, name: String) throws(AdaError) {
    guard dataset.exampleShape == graph.inputShape else {
      throw AdaError(
        .badShape, path: "\(name)/\(graph.input.name)",
        "the \(name) expects examples of shape \(graph.inputShape), the dataset '\(dataset.name)' has \(dataset.exampleShape)"
      )
    }
    let shapes = try graph.inferShapes()
    for o in graph.outputs where shapes[o] != [dataset.classCount] {
      throw AdaError(
        .badShape, path: "\(name)/\(o)",
        "output has shape \(shapes[o] ?? []), expected [\(dataset.classCount)] for \(dataset.classCount) classes"
      )
    }
  }

  static func trainableKeys(_ graph: Graph) throws(AdaError) -> [String] {
    try trainableParameters(graph).map(\.key)
  }

  /// (node, key) of every trainable parameter, sorted by key.
  static func trainableParameters(_ graph: Graph) throws(AdaError) -> [(node: String, key: String)] {
    let shapes = try graph.inferShapes()
    var out: [(node: String, key: String)] = []
    for node in graph.nodes {
      for spec in node.spec.makeLayer().parameters(for: node.inputs.compactMap { shapes[$0] })
      where spec.trainable {
        out.append((node.name, Parameters.key(node.name, spec.name)))
      }
    }
    return out.sorted { $0.key < $1.key }
  }

  /// The trainable keys of the nodes that feed at least one output flagged in `outputs` (the
  /// outputs that received a loss gradient). Parameters outside that set get no gradient in
  /// Keras (`None`, filtered before weight decay and update); they get no update here either.
  func trainableKeys(reaching outputs: [Bool]) -> [String] {
    if outputs.allSatisfy({ $0 }) && split.graph.outputs.count == 1 { return trainableKeys }
    let inputsOf = Dictionary(uniqueKeysWithValues: split.graph.nodes.map { ($0.name, $0.inputs) })
    var reached = Set<String>()
    var stack = zip(split.graph.outputs, outputs).filter(\.1).map(\.0)
    while let n = stack.popLast() {
      guard reached.insert(n).inserted else { continue }
      stack += inputsOf[n] ?? []
    }
    return zip(trainableNodes, trainableKeys).filter { reached.contains($0.0) }.map(\.1)
  }
}

/// The distillation teacher, run in inference mode with its final softmax split off.
struct TeacherRunner {
  let executor: Executor
  let parameters: Parameters
  let logits: [Bool]

  init(_ teacher: Model) throws(AdaError) {
    let split = teacher.graph.splittingFinalSoftmax()
    executor = try Executor(graph: split.graph)
    parameters = teacher.parameters
    logits = split.softmaxRemoved
  }

  func predict(_ x: Tensor) -> [Tensor] { executor.predict(x, parameters: parameters) }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Monotonic seconds, for throughput and elapsed-time reports only (never for randomness).
func monotonicSeconds() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
