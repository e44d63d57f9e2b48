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
    try Self.load(dataset, split, limit: limit, for: graph)
  }

  /// The split, or nil when the dataset file has no such split (HDF5 datasets may hold only
  /// training examples).
  func loadIfPresent(_ split: DatasetSplit, for graph: Graph) throws(AdaError) -> LabeledDataset? {
    try Self.loadIfPresent(dataset, split, limit: limit, for: graph)
  }

  static func loadIfPresent(
    _ name: String, _ split: DatasetSplit, limit: Int?, for graph: Graph
  ) throws(AdaError) -> LabeledDataset? {
    do {
      return try load(name, split, limit: limit, for: graph)
    } catch {
      if error.kind == .missing { return nil }
      throw error
    }
  }

  /// `name`'s split, limited to `limit` examples, reshaped to the model's input shape.
  static func load(
    _ name: String, _ split: DatasetSplit, limit: Int?, for graph: Graph
  ) throws(AdaError) -> LabeledDataset {
    let data = try DatasetSource.resolve(name).load(split, limit: limit)
    do {
      return try data.reshapingExamples(to: graph.inputShape)
    } catch {
      throw AdaError(error.kind, file: name, path: "\(split.rawValue) examples", error.message)
    }
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
