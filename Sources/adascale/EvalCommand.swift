import AdaBundleWriter
import AdaFormats
import AdaIO
import AdaNN
import AdaTensor
import AdaTrain
import ArgumentParser
import Foundation

struct EvalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval",
    abstract: "Measure a model's loss and accuracy on a dataset split.",
    discussion: HelpText.reflow(
      """
      Runs in inference mode (batch-norm moving statistics, no dropout). The loss is Keras'
      sparse categorical cross-entropy (from probabilities when the model ends in a softmax).
      Images whose size or channels differ from the model's input need --resize / --channels;
      --preprocess picks Keras' preprocess_input convention (default unit: x/255).

      Examples:
        adascale eval --model model.h5 --dataset fashion-mnist
        adascale eval --model model.keras --dataset my-data.h5 --split train \\
          --limit 1000 --json
        adascale eval --model mobilenetv2_32x32.keras --dataset fashion-mnist \\
          --resize 32x32 --channels 3 --preprocess tf
        # stream splits above 1 GB
        adascale eval --model model.h5 --dataset big.h5 --max-memory 1GB
      """))

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var datasetOptions: DatasetOptions

  @Option(help: "Split to evaluate: train or test.")
  var split: String = "test"

  @Option(help: "Examples per forward pass.")
  var batchSize = 256

  @Flag(help: "Print JSON.")
  var json = false

  struct Report: Codable {
    var model: String
    var dataset: String
    var split: String
    var examples: Int
    var accuracy: Double
    var loss: Double
    var seconds: Double
  }

  func validate() throws {
    guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    guard DatasetSplit(rawValue: split) != nil else {
      throw ValidationError(
        "--split must be one of: \(DatasetSplit.allCases.map(\.rawValue).joined(separator: ", "))")
    }
  }

  func run() throws {
    let model = try modelOptions.load()
    let data = try datasetOptions.load(DatasetSplit(rawValue: split)!, for: model.graph)
    let start = Date()
    let result = try Trainer.evaluate(
      model, on: data, batchSize: batchSize, objective: ClassificationObjective())
    let report = Report(
      model: modelOptions.model, dataset: datasetOptions.dataset, split: split, examples: result.count,
      accuracy: result.accuracy, loss: result.loss, seconds: Date().timeIntervalSince(start))
    if json { return try Output.printJSON(report) }
    print(
      "\(modelOptions.model) on \(datasetOptions.dataset) (\(split), \(result.count) examples): "
        + String(
          format: "accuracy %.2f%%, loss %.4f  [%.1f s]", result.accuracy * 100, result.loss, report.seconds))
  }
}
