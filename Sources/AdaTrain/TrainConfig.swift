import AdaCore
import AdaNN
import AdaTensor
import Foundation

/// Everything that defines a training run. Defaults follow Keras `fit` where Keras has one.
///
///     var config = TrainConfig(epochs: 10, batchSize: 64)
///     config.optimizer = .sgd(momentum: 0.9, nesterov: true)
///     config.schedule = .cosine(initial: 0.05, decaySteps: 8_440).withWarmup(steps: 200)
///     config.checkpointDirectory = "runs/fmnist"
public struct TrainConfig: Sendable {
  public var epochs: Int
  public var batchSize: Int
  public var optimizer: OptimizerConfig
  public var schedule: LearningRateSchedule
  /// Seeds every random stream of the run (shuffle, augmentation, dropout), see `RandomStream`.
  public var seed: UInt64
  /// Fraction of the dataset, taken from its end before shuffling, held out for validation.
  public var validationFraction: Double
  public var augmentation: AugmentationConfig
  /// Keras decoupled `weight_decay` (`w ← w − w·wd·lr` before each update); 0 disables it.
  public var weightDecay: Double
  /// A teacher to distil from, with the loss weights; `nil` trains on labels alone.
  public var distillation: Distillation?
  /// Where checkpoints go; `nil` writes none.
  public var checkpointDirectory: String?
  /// Also checkpoint every this many optimizer steps (besides every epoch end).
  public var checkpointEverySteps: Int?
  /// Continue from the checkpoint in `checkpointDirectory` when there is one.
  public var resume: Bool
  /// Weights trained through a projection (straight-through estimator), e.g. onto a
  /// quantization grid; `nil` trains every weight as it is. Set it after `init`.
  public var parameterProjection: ParameterProjection?

  public init(
    epochs: Int = 1, batchSize: Int = 32, optimizer: OptimizerConfig = .adam(),
    schedule: LearningRateSchedule = .constant(0.001), seed: UInt64 = 0,
    validationFraction: Double = 0, augmentation: AugmentationConfig = .none,
    weightDecay: Double = 0, distillation: Distillation? = nil,
    checkpointDirectory: String? = nil, checkpointEverySteps: Int? = nil, resume: Bool = false
  ) {
    self.epochs = epochs
    self.batchSize = batchSize
    self.optimizer = optimizer
    self.schedule = schedule
    self.seed = seed
    self.validationFraction = validationFraction
    self.augmentation = augmentation
    self.weightDecay = weightDecay
    self.distillation = distillation
    self.checkpointDirectory = checkpointDirectory
    self.checkpointEverySteps = checkpointEverySteps
    self.resume = resume
  }

  /// Checks every field; errors name it as `train.<field>`.
  public func validate() throws(AdaError) {
    func bad(_ field: String, _ message: String) -> AdaError {
      AdaError(.invalidValue, path: "train.\(field)", message)
    }
    guard epochs >= 1 else { throw bad("epochs", "expected ≥ 1, found \(epochs)") }
    guard batchSize >= 1 else { throw bad("batchSize", "expected ≥ 1, found \(batchSize)") }
    guard validationFraction >= 0 && validationFraction < 1 else {
      throw bad("validationFraction", "expected a value in [0, 1), found \(validationFraction)")
    }
    guard weightDecay >= 0 && weightDecay.isFinite else {
      throw bad("weightDecay", "expected ≥ 0, found \(weightDecay)")
    }
    guard augmentation.cropPadding >= 0 else {
      throw bad("augmentation.cropPadding", "expected ≥ 0, found \(augmentation.cropPadding)")
    }
    if let k = checkpointEverySteps, k < 1 { throw bad("checkpointEverySteps", "expected ≥ 1, found \(k)") }
    if resume && checkpointDirectory == nil {
      throw bad("resume", "resuming needs a checkpoint directory")
    }
    if let d = distillation {
      guard d.weights.alpha >= 0 && d.weights.alpha <= 1 else {
        throw bad("distillation.alpha", "expected a value in [0, 1], found \(d.weights.alpha)")
      }
      guard d.weights.temperature > 0 && d.weights.temperature.isFinite else {
        throw bad("distillation.temperature", "expected a positive value, found \(d.weights.temperature)")
      }
    }
    try optimizer.validate(path: "train.optimizer")
    try schedule.validate(path: "train.schedule")
  }

  /// Hash of everything that determines the trajectory of the weights: the model (graph and
  /// initial parameters), the dataset (shape and contents), batch size, optimizer, schedule,
  /// seed, validation split, augmentation, weight decay, the distillation teacher and weights,
  /// and which weights are projected (the projections themselves are closures, not hashed).
  ///
  /// Deliberately left out: `epochs` (a finished run may be extended), the checkpoint settings
  /// and `resume` (they do not change the numbers).
  public func configHash(model: Model, dataset: LabeledDataset) -> String {
    var h = StableHasher()
    h.combine("adascale-train-v1")
    h.combine(
      json: HashedFields(
        batchSize: batchSize, optimizer: optimizer, schedule: schedule, seed: seed,
        validationFraction: validationFraction, augmentation: augmentation, weightDecay: weightDecay,
        distillation: distillation?.weights, projectedKeys: parameterProjection?.keys))
    h.combine(json: model.graph)
    h.combine(model.parameters)
    h.combine(json: [dataset.count, dataset.classCount] + dataset.exampleShape)
    h.combine(examplesOf: dataset)
    dataset.labels.withUnsafeBytes { h.combine(bytes: $0) }
    if let teacher = distillation?.teacher {
      h.combine(json: teacher.graph)
      h.combine(teacher.parameters)
    }
    if let inputs = distillation?.teacherInputs {
      h.combine(json: [inputs.count] + inputs.exampleShape)
      h.combine(examplesOf: inputs)
    }
    return h.hexDigest
  }

  private struct HashedFields: Encodable {
    var batchSize: Int
    var optimizer: OptimizerConfig
    var schedule: LearningRateSchedule
    var seed: UInt64
    var validationFraction: Double
    var augmentation: AugmentationConfig
    var weightDecay: Double
    var distillation: DistillationWeights?
    /// nil (and absent from the JSON) without a projection, so older hashes are unchanged.
    var projectedKeys: [String]?
  }
}

/// A teacher model and how much to trust it.
///
/// By default the teacher reads the student's own batch. With `teacherInputs` it reads the
/// examples at the same indices of that dataset instead: a teacher at a higher resolution than
/// its student (the source model at its own 32×32 teaching a 16×16 configuration) sees each
/// image as it was made, not shrunk to the student's size.
///
///     Distillation(teacher: source, alpha: 0.5, temperature: 2, teacherInputs: train32)
public struct Distillation: Sendable {
  public var teacher: Model
  public var weights: DistillationWeights
  /// The teacher's view of the training data, index for index (same count and labels); nil
  /// when the teacher reads the student's batch.
  public var teacherInputs: LabeledDataset?

  public init(teacher: Model, alpha: Float, temperature: Float, teacherInputs: LabeledDataset? = nil) {
    self.teacher = teacher
    self.weights = DistillationWeights(alpha: alpha, temperature: temperature)
    self.teacherInputs = teacherInputs
  }
}

extension Distillation {
  /// A teacher's own inputs pair with the training data index for index: same count, same
  /// labels, and no augmentation (a crop or flip of the student's batch would not be the
  /// teacher's). Nothing to check without them.
  public func checkTeacherInputs(pairedWith dataset: LabeledDataset, augmented: Bool) throws(AdaError) {
    guard let inputs = teacherInputs else { return }
    let path = "train.distillation.teacherInputs"
    guard inputs.count == dataset.count else {
      throw AdaError(
        .badShape, path: path,
        "the teacher's inputs '\(inputs.name)' hold \(inputs.count) examples, the training data '\(dataset.name)' \(dataset.count)"
      )
    }
    if let i = inputs.labels.indices.first(where: { inputs.labels[$0] != dataset.labels[$0] }) {
      throw AdaError(
        .invalidValue, path: "\(path)/labels[\(i)]",
        "label \(inputs.labels[i]) differs from the training data's \(dataset.labels[i]): the examples are not paired"
      )
    }
    guard !augmented else {
      throw AdaError(
        .invalidValue, path: "train.augmentation",
        "a teacher with its own inputs cannot follow the student's crops and flips; turn augmentation off")
    }
  }
}
