import AdaCompress
import AdaIO
import AdaNN
import AdaTensor
import AdaTrain
import ArgumentParser
import Foundation

struct ApplyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "apply",
    abstract: "Apply compression operators to a Keras model and save the result as Keras .h5.",
    discussion: HelpText.reflow(
      """
      Operators run in the order given; each rewrites the layers --layers names (default: every
      layer it can rewrite). With --finetune-epochs, the result is then fine-tuned on --dataset
      by knowledge distillation from the original model (each early exit's loss weighted
      --exit-weight, the original outputs 1; Adam, cosine-decayed from --lr); quantized kernels
      stay on their integer grid (straight-through estimator).
      Prints params, MACs and weight bytes before → after, per rewritten layer and in total.
      The output is a Keras legacy .h5 that keras.models.load_model opens; quantized
      weights are stored as their dequantized floats for Keras, with the integers and scales in
      an extra group adascale reads back (docs/formats.md).

      Operators (see docs/operators.md):
        \(OperatorParser.ids.map { OperatorParser.syntax[$0]! }.joined(separator: "\n  "))

      Examples:
        adascale apply --model cnn.h5 --op low-rank:0.25 --op quantize:8 \\
          --output small.h5
        adascale apply --model cnn.h5 --op fire:0.25 --layers conv2 \\
          --finetune-epochs 1 --dataset fashion-mnist --limit 5000 \\
          --output fire.h5
        adascale apply --model mobilenet.h5 --op prune-channels:0.5 \\
          --finetune-epochs 1 --lr 0.003 --dataset fashion-mnist --output half.h5
        adascale apply --model mobilenet.h5 --op early-exit:block_2 \\
          --finetune-epochs 1 --dataset data.h5 --output exits.h5 --json
        adascale apply --model mobilenetv2_32x32.keras --op quantize:8 \\
          --dataset fashion-mnist --resize 32x32 --channels 3 --preprocess tf \\
          --output q.h5
      """))

  @OptionGroup var modelOptions: ModelOptions

  @Option(name: .customLong("op"), help: "An operator, e.g. low-rank:0.25 (repeat for a chain).")
  var operators: [String] = []

  @Option(help: "Comma-separated layer names to rewrite (default: every eligible layer).")
  var layers: String?

  @Option(help: "Where to write the compressed model (Keras legacy .h5).")
  var output: String

  @Option(help: "Epochs of distillation fine-tuning after the operators (0: none).")
  var finetuneEpochs = 0

  @Option(help: "'fashion-mnist' or an HDF5 dataset file, for fine-tuning and accuracy.")
  var dataset: String?

  @Option(help: "Use only the first N examples of each split.")
  var limit: Int?

  @OptionGroup var preparation: DataPreparationOptions

  @Option(help: "Fine-tuning examples per step.")
  var batchSize = 64

  @Option(
    help: """
      Fine-tuning learning rate (Adam); with --lr-decay cosine, the peak. A rewrite that loses \
      much accuracy before fine-tuning (pruning half the channels) recovers more with 0.003.
      """)
  var lr = 0.0003

  @Option(help: "How the fine-tuning learning rate moves: cosine (decays to 0 over the run) or constant.")
  var lrDecay: FineTuneOptions.Decay = .cosine

  @Option(
    help: """
      Fine-tuning loss weight of each early-exit output; the model's own outputs weigh 1. Below 1 \
      keeps the exits from pulling the shared blocks away from the main output.
      """)
  var exitWeight: Float = ApplyCommand.defaultExitWeight

  /// Default `--exit-weight`: on the wide Fashion-MNIST MobileNet with an exit after block_2,
  /// one epoch at lr 3·10⁻⁴ costs the main output 0.47 points and trains the exit to 73 %
  /// (0.3: −0.91 / 78 %, 1: −1.52 / 80 %; docs/operators.md "Measured").
  static let defaultExitWeight: Float = 0.1

  @Option(help: "Distillation weight α of the teacher term (0–1).")
  var alpha: Float = 0.7

  @Option(help: "Distillation temperature.")
  var temperature: Float = 4

  @Option(help: "Seed for fine-tuning and new weights.")
  var seed: UInt64 = 0

  @Flag(help: "Print the report as JSON.")
  var json = false

  func validate() throws {
    guard !operators.isEmpty else {
      throw ValidationError("give at least one --op (e.g. --op low-rank:0.25)")
    }
    guard finetuneEpochs >= 0 else { throw ValidationError("--finetune-epochs must be 0 or more") }
    guard finetuneEpochs == 0 || dataset != nil else {
      throw ValidationError("--finetune-epochs needs --dataset")
    }
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    guard (0...1).contains(alpha) else { throw ValidationError("--alpha must be in [0, 1]") }
    guard temperature > 0 else { throw ValidationError("--temperature must be positive") }
    guard lr > 0 else { throw ValidationError("--lr must be positive") }
    guard exitWeight >= 0 && exitWeight.isFinite else {
      throw ValidationError("--exit-weight must be 0 or more, found \(exitWeight)")
    }
    try checkOutputDirectory(output, option: "--output")
  }

  var selection: LayerSelection {
    guard let layers else { return .all }
    return .named(layers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
  }

  func run() throws {
    let start = Date()
    let (original, inputQuantized) = try IsolatedDecode.loadModelWithQuantized(
      modelOptions.model, config: modelOptions.config)
    let chain = OperatorChain(try OperatorParser.parse(operators).map { OperatorChain.Step($0) })
    if !json { Output.status("applying \(chain.description) to \(original.graph.name)") }
    var result = try chain.apply(to: original, quantized: inputQuantized, selecting: selection)
    if result.report.layers.isEmpty {
      Output.status(
        "warning: no layer of \(original.graph.name) was eligible for \(chain.description); the model is unchanged"
      )
    }

    var fineTune: ApplyReport.FineTune?
    var accuracy: ApplyReport.Accuracy?
    if let dataset {
      if finetuneEpochs > 0 {
        let train = try DatasetOptions.load(
          dataset, .train, limit: limit, preparation: preparation, for: original.graph)
        if !json {
          Output.status("fine-tuning on \(train.name): \(train.count) examples, \(finetuneEpochs) epoch(s)")
        }
        let weights = FineTuneOptions.exitWeights(
          outputs: result.model.graph.outputs.count, originalOutputs: original.graph.outputs.count,
          exitWeight: exitWeight)
        let options = FineTuneOptions(
          epochs: finetuneEpochs, batchSize: batchSize, learningRate: lr, decay: lrDecay, seed: seed,
          outputWeights: weights)
        let tuned = try Distillation(teacher: original, alpha: alpha, temperature: temperature).fineTune(
          result.model, on: train, options: options, quantized: result.quantized,
          reporter: json ? SilentReporter() : TerminalProgressBar())
        (result.model, result.quantized) = result.quantized.projecting(tuned.model)
        fineTune = ApplyReport.FineTune(
          examples: train.count, learningRate: lr, decay: lrDecay, outputWeights: weights,
          epochs: tuned.history)
      }
      let test = try DatasetOptions.loadIfPresent(
        dataset, .test, limit: limit, preparation: preparation, for: original.graph)
      if test == nil && !json {
        Output.status("note: \(dataset) has no test split; accuracy is not reported")
      }
      if let test {
        let objective = ClassificationObjective()
        accuracy = ApplyReport.Accuracy(
          dataset: test.name, examples: test.count,
          original: try Trainer.evaluate(original, on: test, batchSize: 256, objective: objective).accuracy,
          compressed: try Trainer.evaluate(result.model, on: test, batchSize: 256, objective: objective)
            .accuracy)
      }
    }
    try KerasModelWriter.save(result.model, quantized: result.quantized, to: output)

    let report = ApplyReport(
      model: modelOptions.model, output: output, original: original, originalQuantized: inputQuantized,
      result: result, fineTune: fineTune, accuracy: accuracy, seconds: Date().timeIntervalSince(start))
    if json { return try Output.printJSON(report) }
    print(report.text)
  }
}

extension FineTuneOptions.Decay: ExpressibleByArgument {}
