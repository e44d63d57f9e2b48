import AdaFormats
import AdaIO
import AdaNN
import AdaTensor
import ArgumentParser
import Foundation

/// `--model FILE [--config JSON]`, shared by commands that read a Keras model.
struct ModelOptions: ParsableArguments {
  @Option(help: "Keras model file (.h5, .keras, or .weights.h5 with --config).")
  var model: String

  @Option(help: "Architecture JSON (Keras' config.json) for a .weights.h5 model.")
  var config: String?

  func load() throws(AdaError) -> Model { try IsolatedDecode.loadModel(model, config: config) }
}

/// `--dataset NAME|FILE [--limit]` and the preparation options, shared by eval and train.
struct DatasetOptions: ParsableArguments {
  @Option(help: "'fashion-mnist' or an HDF5 dataset file (see datasets/README.md).")
  var dataset: String

  @Option(help: "Use only the first N examples of each split (quick runs).")
  var limit: Int?

  @OptionGroup var preparation: DataPreparationOptions

  func validate() throws {
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
  }

  /// The split, prepared and shaped for the model's input.
  func load(_ split: DatasetSplit, for graph: Graph) throws(AdaError) -> LabeledDataset {
    try Self.load(dataset, split, limit: limit, preparation: preparation, for: graph)
  }

  /// The split, or nil when the dataset file has no such split (HDF5 datasets may hold only
  /// training examples).
  func loadIfPresent(_ split: DatasetSplit, for graph: Graph) throws(AdaError) -> LabeledDataset? {
    try Self.loadIfPresent(dataset, split, limit: limit, preparation: preparation, for: graph)
  }

  static func loadIfPresent(
    _ name: String, _ split: DatasetSplit, limit: Int?, preparation: DataPreparationOptions, for graph: Graph
  ) throws(AdaError) -> LabeledDataset? {
    try IsolatedDecode.check(.dataset, name)
    let data: LabeledDataset
    do {
      data = try DatasetSource.resolve(name).load(split, limit: limit, maxMemory: preparation.maxMemoryBytes)
    } catch {
      if error.kind == .missing { return nil }
      throw error
    }
    return try preparation.fit(data, to: graph.inputShape, file: name)
  }

  /// `name`'s split, limited to `limit` examples, prepared and shaped for the model's input.
  static func load(
    _ name: String, _ split: DatasetSplit, limit: Int?, preparation: DataPreparationOptions, for graph: Graph
  ) throws(AdaError) -> LabeledDataset {
    try IsolatedDecode.check(.dataset, name)
    let data = try DatasetSource.resolve(name).load(
      split, limit: limit, maxMemory: preparation.maxMemoryBytes)
    return try preparation.fit(data, to: graph.inputShape, file: name)
  }
}

/// Throws a usage error when the directory that would hold `path` does not exist, so a long
/// job fails before it starts rather than when it writes its result.
func checkOutputDirectory(_ path: String, option: String) throws {
  let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
  var isDirectory: ObjCBool = false
  guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
    throw ValidationError("\(option) \(path): directory \(dir) does not exist")
  }
}
