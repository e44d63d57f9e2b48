import AdaFormats
import AdaIO
import AdaNN
import AdaTensor
import AdaTrain
import ArgumentParser
import Foundation

struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a Keras model (or a fresh one from an architecture file) and save it as Keras .h5.",
    discussion: HelpText.reflow(
      """
      Continues training a Keras model (--model), or trains a new one from a YAML architecture
      file (--arch, e.g. recipes/models/fmnist_cnn.yaml) initialised with --seed. Optimizers and
      schedules follow Keras' update rules. A checkpoint is written atomically after every epoch
      (and every --checkpoint-every steps) to --checkpoint-dir (default: OUTPUT.checkpoints);
      after an interruption, run the same command with --resume to continue: the result is
      bit-identical to an uninterrupted run.
      The output is a Keras legacy .h5 that keras.models.load_model opens.

      Examples:
        adascale train --arch recipes/models/fmnist_cnn.yaml \\
          --dataset fashion-mnist --epochs 10 --output cnn.h5
        adascale train --model cnn.h5 --dataset fashion-mnist --epochs 2 \\
          --optimizer sgd --lr 0.01 --output tuned.h5
        adascale train --model small.h5 --teacher cnn.h5 --alpha 0.7 \\
          --temperature 4 --dataset fashion-mnist --epochs 1 --output distilled.h5
        adascale train --arch recipes/models/fmnist_cnn.yaml \\
          --dataset fashion-mnist --epochs 10 --output cnn.h5 --resume
        adascale train --model mobilenetv2_32x32.keras --dataset fashion-mnist \\
          --resize 32x32 --channels 3 --preprocess tf --output m.h5
        # streams above 2 GB
        adascale train --model cnn.h5 --dataset big.h5 --max-memory 2GB --epochs 1 \\
          --output cnn2.h5
      """))

  @Option(help: "Keras model to continue training (.h5, .keras, or .weights.h5 with --config).")
  var model: String?

  @Option(help: "Architecture JSON for a .weights.h5 --model.")
  var config: String?

  @Option(help: "YAML architecture file to train from scratch (instead of --model).")
  var arch: String?

  @OptionGroup var datasetOptions: DatasetOptions

  @Option(help: "Where to write the trained model (Keras legacy .h5).")
  var output: String

  @Option(help: "Number of passes over the training split.")
  var epochs = 1

  @Option(help: "Examples per step.")
  var batchSize = 64

  @Option(help: "adam or sgd.")
  var optimizer = "adam"

  @Option(help: "Learning rate (default: 0.001 for adam, 0.01 for sgd).")
  var lr: Double?

  @Option(help: "SGD momentum.")
  var momentum = 0.9

  @Flag(help: "Nesterov momentum (SGD).")
  var nesterov = false

  @Option(help: "Decoupled weight decay (Keras' weight_decay).")
  var weightDecay = 0.0

  @Option(help: "Learning-rate schedule: constant, cosine or step.")
  var schedule = "constant"

  @Option(help: "Linear warm-up steps before the schedule.")
  var warmupSteps = 0

  @Option(help: "Fraction of the training split held out for validation.")
  var validationSplit = 0.0

  @Option(help: "Random-crop augmentation: zero padding in pixels (0 = off).")
  var augmentCrop = 0

  @Flag(help: "Random horizontal-flip augmentation.")
  var augmentFlip = false

  @Option(help: "Teacher model for knowledge distillation.")
  var teacher: String?

  @Option(help: "Distillation weight α of the teacher term (0–1).")
  var alpha: Float = 0.5

  @Option(help: "Distillation temperature.")
  var temperature: Float = 4

  @Option(help: "Seed for initialisation, shuffling, augmentation and dropout.")
  var seed: UInt64 = 0

  @Option(help: "Checkpoint directory (default: OUTPUT.checkpoints).")
  var checkpointDir: String?

  @Option(help: "Also checkpoint every N optimizer steps (besides every epoch end).")
  var checkpointEvery: Int?

  @Flag(help: "Continue from the checkpoint in --checkpoint-dir if there is one.")
  var resume = false

  @Flag(help: "JSON lines (one per step and epoch) on stdout instead of a progress bar.")
  var json = false

  func validate() throws {
    guard (model == nil) != (arch == nil) else {
      throw ValidationError("give exactly one of --model (continue training) or --arch (train from scratch)")
    }
    guard ["adam", "sgd"].contains(optimizer) else {
      throw ValidationError("--optimizer must be adam or sgd")
    }
    guard ["constant", "cosine", "step"].contains(schedule) else {
      throw ValidationError("--schedule must be constant, cosine or step")
    }
    guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
    guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    guard validationSplit >= 0 && validationSplit < 1 else {
      throw ValidationError("--validation-split must be in [0, 1)")
    }
    if let lr, lr <= 0 { throw ValidationError("--lr must be positive") }
    guard (0...1).contains(alpha) else { throw ValidationError("--alpha must be in [0, 1]") }
    guard temperature > 0 else { throw ValidationError("--temperature must be positive") }
    guard augmentCrop >= 0 else { throw ValidationError("--augment-crop must be 0 or more") }
    guard warmupSteps >= 0 else { throw ValidationError("--warmup-steps must be 0 or more") }
    guard weightDecay >= 0 else { throw ValidationError("--weight-decay must be 0 or more") }
    try checkOutputDirectory(output, option: "--output")
    if let checkpointEvery, checkpointEvery < 1 {
      throw ValidationError("--checkpoint-every must be at least 1 (steps)")
    }
  }

  struct Summary: Codable {
    var output: String
    var epochs: [EpochReport]
    /// Nil when the dataset has no test split.
    var testAccuracy: Double?
    var testLoss: Double?
    var seconds: Double
  }

  func run() throws {
    let start = Date()
    let initial: Model
    if let arch {
      let graph = try ArchitectureFile.load(path: arch)
      initial = Model(graph: graph, parameters: try Parameters.initialize(for: graph, seed: seed))
    } else {
      initial = try IsolatedDecode.loadModel(model!, config: config)
    }
    let train = try datasetOptions.load(.train, for: initial.graph)
    let test = try datasetOptions.loadIfPresent(.test, for: initial.graph)
    let trainConfig = TrainConfig(
      epochs: epochs, batchSize: batchSize, optimizer: optimizerConfig,
      schedule: learningRateSchedule(
        stepsPerEpoch: EpochSampler(
          count: train.count, validationFraction: validationSplit, batchSize: batchSize, seed: seed
        ).stepsPerEpoch),
      seed: seed, validationFraction: validationSplit,
      augmentation: AugmentationConfig(cropPadding: augmentCrop, horizontalFlip: augmentFlip),
      weightDecay: weightDecay,
      distillation: try teacher.map { path throws(AdaError) in
        Distillation(teacher: try IsolatedDecode.loadModel(path), alpha: alpha, temperature: temperature)
      },
      checkpointDirectory: checkpointDir ?? output + ".checkpoints", checkpointEverySteps: checkpointEvery,
      resume: resume)
    let reporter: any ProgressReporter = json ? JSONLinesReporter(stepInterval: 20) : TerminalProgressBar()
    let trainer = Trainer(config: trainConfig, reporter: reporter)
    if !json {
      Output.status(
        "training \(initial.graph.name) on \(train.name): \(train.count) examples, \(epochs) epoch(s), "
          + "batch \(batchSize), \(optimizer) lr \(learningRate)")
    }
    let result = try trainer.fit(initial, on: train)
    var evaluation: Evaluation?
    if let test { evaluation = try trainer.evaluate(result.model, on: test, batchSize: 256) }
    try KerasModelWriter.save(result.model, to: output)
    let summary = Summary(
      output: output, epochs: result.history, testAccuracy: evaluation?.accuracy, testLoss: evaluation?.loss,
      seconds: Date().timeIntervalSince(start))
    if json { return try Output.printJSON(summary) }
    let scored =
      evaluation.map {
        String(format: "test accuracy %.2f%%, loss %.4f (%d examples)", $0.accuracy * 100, $0.loss, $0.count)
      } ?? "no test split to score"
    print("saved \(output): \(scored), \(String(format: "%.1f", summary.seconds)) s")
  }

  var learningRate: Double { lr ?? (optimizer == "adam" ? 0.001 : 0.01) }

  var optimizerConfig: OptimizerConfig {
    optimizer == "adam" ? .adam() : .sgd(momentum: momentum, nesterov: nesterov)
  }

  func learningRateSchedule(stepsPerEpoch: Int) -> LearningRateSchedule {
    let total = max(stepsPerEpoch * epochs, 1)
    let base: LearningRateSchedule =
      switch schedule {
      case "cosine": .cosine(initial: learningRate, decaySteps: total)
      case "step": .stepDecay(initial: learningRate, every: max(total / 3, 1), factor: 0.1)
      default: .constant(learningRate)
      }
    return warmupSteps > 0 ? base.withWarmup(steps: warmupSteps, from: 0) : base
  }
}
