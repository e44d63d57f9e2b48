import AdaNN
import AdaTensor
import AdaTrain

/// How to fine-tune a compressed model against its original (design.md §4: knowledge
/// distillation is the fine-tuning loss everywhere). Defaults are a short, gentle run: one
/// epoch, Adam at 3·10⁻⁴ decayed to 0 by a cosine. The decay matters most for weights trained
/// on a grid (`quantize:4`): ending at a small step lands them steadily (docs/operators.md
/// "Measured" shows constant against cosine). Heavy rewrites recover more with a larger peak
/// (3·10⁻³).
public struct FineTuneOptions: Codable, Hashable, Sendable {
  public var epochs: Int
  public var batchSize: Int
  /// Use only the first `limit` examples of the dataset (quick runs); nil uses all.
  public var limit: Int?
  /// Adam learning rate (the peak of a cosine decay).
  public var learningRate: Double
  /// How the learning rate moves over the run.
  public var decay: Decay
  /// Seeds shuffling and dropout.
  public var seed: UInt64
  /// Loss weight per model output (early exits are extra outputs); nil weighs each output 1.
  public var outputWeights: [Float]?

  /// The learning rate over a fine-tuning run.
  public enum Decay: String, Codable, Hashable, Sendable, CaseIterable {
    /// `learningRate` at every step.
    case constant
    /// Cosine decay from `learningRate` to 0 over all the run's steps (Keras `CosineDecay`).
    case cosine
  }

  public init(
    epochs: Int = 1, batchSize: Int = 64, limit: Int? = nil, learningRate: Double = 3e-4,
    decay: Decay = .cosine, seed: UInt64 = 0, outputWeights: [Float]? = nil
  ) {
    self.epochs = epochs
    self.batchSize = batchSize
    self.limit = limit
    self.learningRate = learningRate
    self.decay = decay
    self.seed = seed
    self.outputWeights = outputWeights
  }

  /// Loss weights for a student with `outputs` outputs whose first `originalOutputs` are the
  /// teacher's own (weight 1) and the rest early exits (`EarlyExit` appends them), each
  /// weighted `exitWeight`; nil when there is no exit. Equal weights let the exits pull the
  /// shared blocks away from the main output (docs/operators.md §Fine-tuning by distillation).
  ///
  ///     FineTuneOptions.exitWeights(outputs: 3, originalOutputs: 1, exitWeight: 0.3)  // [1, 0.3, 0.3]
  public static func exitWeights(outputs: Int, originalOutputs: Int, exitWeight: Float) -> [Float]? {
    precondition(
      originalOutputs >= 1 && outputs >= originalOutputs, "exitWeights: \(outputs) < \(originalOutputs)")
    guard outputs > originalOutputs else { return nil }
    return Array(repeating: 1, count: originalOutputs)
      + Array(repeating: exitWeight, count: outputs - originalOutputs)
  }

  /// The training configuration these options describe for `examples` training examples,
  /// distilling from `distillation`.
  public func trainConfig(distillation: Distillation, examples: Int) -> TrainConfig {
    let steps = max(1, epochs * ((examples + batchSize - 1) / max(batchSize, 1)))
    let schedule: LearningRateSchedule =
      switch decay {
      case .constant: .constant(learningRate)
      case .cosine: .cosine(initial: learningRate, decaySteps: steps)
      }
    return TrainConfig(
      epochs: epochs, batchSize: batchSize, optimizer: .adam(), schedule: schedule, seed: seed,
      distillation: distillation)
  }
}

extension Distillation {
  /// Training images used to refit a GAP head before fine-tuning.
  public static let calibrationCount = 1024

  /// Fine-tunes `student` (a compressed model) to mimic this teacher (the original) on
  /// `dataset`, with AdaTrain's `Trainer`: loss `α·T²·KL(teacher_T ‖ student_T) + (1 − α)·CE`
  /// on every student output (an early exit distils from the teacher's first output).
  ///
  /// First, a classifier head that reads global-average-pooled features where the teacher's
  /// does not (a `gap-head` rewrite) is refitted by least squares to the teacher's logits on the
  /// first `calibrationCount` training images (`GAPHead.fitHeads`); other models start as given.
  ///
  /// Weights in `quantized` (the table of a `quantize` result) are fine-tuned
  /// quantization-aware: every step runs with them projected onto their grid (fixed scales), the
  /// optimizer updates float shadow weights (straight-through estimator), and the returned model
  /// holds the projected weights, so `quantized.projecting(result.model)` gives their table.
  ///
  ///     let teacher = Distillation(teacher: original, alpha: 0.7, temperature: 4)
  ///     let tuned = try teacher.fineTune(compressed, on: train, options: FineTuneOptions(epochs: 1)).model
  ///
  /// - Throws: `AdaError` when the options are invalid (errors name `finetune.<field>` or
  ///   `train.<field>`) or the dataset does not fit the student or the teacher.
  public func fineTune(
    _ student: Model, on dataset: LabeledDataset, options: FineTuneOptions = FineTuneOptions(),
    quantized: QuantizedWeights = [:], reporter: any ProgressReporter = SilentReporter()
  ) throws(AdaError) -> TrainResult {
    var data = dataset
    var distillation = self
    if let limit = options.limit {
      guard limit >= 1 else {
        throw AdaError(.invalidValue, path: "finetune.limit", "expected ≥ 1, found \(limit)")
      }
      if limit < dataset.count {
        data = dataset.subset(Array(0..<limit))
        distillation.teacherInputs = teacherInputs.map { $0.subset(Array(0..<min(limit, $0.count))) }
      }
    }
    if let weights = options.outputWeights, weights.count != student.graph.outputs.count {
      throw AdaError(
        .invalidValue, path: "finetune.outputWeights",
        "\(weights.count) weights for \(student.graph.outputs.count) outputs \(student.graph.outputs)")
    }
    // Checked here as well as in the Trainer: the head refit below already reads the teacher's
    // inputs at the student's indices.
    try distillation.checkTeacherInputs(pairedWith: data, augmented: false)
    let calibrationIndices = Array(0..<min(Self.calibrationCount, data.count))
    let start = try GAPHead.fitHeads(
      of: student, teacher: teacher, inputs: data.examples(at: calibrationIndices),
      teacherInputs: distillation.teacherInputs.map { inputs throws(AdaError) in
        try inputs.examples(at: calibrationIndices)
      })
    var config = options.trainConfig(distillation: distillation, examples: data.count)
    if !quantized.isEmpty { config.parameterProjection = quantized.trainingProjection }
    let trainer = Trainer(
      config: config,
      objective: ClassificationObjective(outputWeights: options.outputWeights), reporter: reporter)
    return try trainer.fit(start, on: data)
  }
}
