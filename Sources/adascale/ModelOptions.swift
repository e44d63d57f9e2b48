import AdaIO
import AdaNN
import AdaTensor
import ArgumentParser

/// `--model FILE [--config JSON]`, shared by commands that read a Keras model.
struct ModelOptions: ParsableArguments {
  @Option(help: "Keras model file (.h5, .keras, or .weights.h5 with --config).")
  var model: String

  @Option(help: "Architecture JSON (Keras' config.json) for a .weights.h5 model.")
  var config: String?

  func load() throws(AdaError) -> Model { try KerasModelReader.load(path: model, config: config) }
}

/// `--dataset NAME|FILE [--split] [--limit]`, shared by eval and train.
struct DatasetOptions: ParsableArguments {
  @Option(help: "'fashion-mnist' or an HDF5 dataset file (see datasets/README.md).")
  var dataset: String

  @Option(help: "Use only the first N examples of each split (quick runs).")
  var limit: Int?

  func validate() throws {
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
  }

  /// The split, reshaped to the model's input shape when the sizes agree.
  func load(_ split: DatasetSplit, for graph: Graph) throws(AdaError) -> LabeledDataset {
    let source = try DatasetSource.resolve(dataset)
    let data = try source.load(split, limit: limit)
    do {
      return try data.reshapingExamples(to: graph.inputShape)
    } catch {
      throw AdaError(error.kind, file: dataset, path: "\(split.rawValue) examples", error.message)
    }
  }
}
