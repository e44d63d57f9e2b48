import AdaIO
import AdaNN
import AdaRecipe
import AdaTensor
import AdaTrain
import Foundation

/// The model the pipeline compresses: the recipe's Keras file, or a baseline trained from the
/// recipe's architecture (checkpointed in the work directory, so a killed run resumes and a
/// finished one is reused).
enum BaselineStage {
  struct Result {
    var model: Model
    /// The file the model was read from (the trained baseline's `.h5` when trained).
    var file: String
    var trainingSeconds: Double
  }

  static func run(
    _ recipe: Recipe, work: WorkDirectory, log: PipelineLog
  ) throws(AdaError) -> Result {
    switch recipe.model {
    case .file(let path, let config):
      let resolved = recipe.resolve(path)
      let model: Model
      do {
        model = try KerasModelReader.load(path: resolved, config: config.map(recipe.resolve))
      } catch {
        throw error.at("model.file")
      }
      return Result(model: model, file: resolved, trainingSeconds: 0)
    case .architecture(let path, let training):
      let key = try baselineKey(
        architecture: recipe.resolve(path), training: training, dataset: recipe.dataset)
      let output = work.path("baseline-\(key).h5")
      if FileManager.default.fileExists(atPath: output) {
        log.stage("baseline: reusing \(output)")
        return Result(model: try KerasModelReader.load(path: output), file: output, trainingSeconds: 0)
      }
      let graph = try ArchitectureFile.load(path: recipe.resolve(path))
      let initial = Model(
        graph: graph, parameters: try Parameters.initialize(for: graph, seed: training.seed))
      let data = try PipelineData.load(recipe, for: graph)
      var config = training.trainConfig(stepsPerEpoch: data.train.count / training.batchSize)
      config.checkpointDirectory = work.path("baseline-\(key)")
      config.resume = true
      log.stage(
        "baseline: training \(graph.name) from \(path) for \(training.epochs) epochs on \(data.train.count) examples"
      )
      let started = Date()
      let result = try Trainer(config: config, reporter: log.trainingReporter).fit(initial, on: data.train)
      try KerasModelWriter.save(result.model, to: output)
      return Result(model: result.model, file: output, trainingSeconds: Date().timeIntervalSince(started))
    }
  }

  /// A short hash of what decides the baseline (architecture text, training and dataset
  /// sections): a baseline trained from other settings is never reused.
  static func baselineKey(
    architecture: String, training: Recipe.BaselineTraining, dataset: Recipe.DatasetSpec
  ) throws(AdaError) -> String {
    guard let text = FileManager.default.contents(atPath: architecture) else {
      throw AdaError(
        .fileNotFound, file: architecture, path: "model.architecture", "cannot read the architecture")
    }
    var h = SHA256()
    h.update(text)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    h.update((try? encoder.encode(training)) ?? Data())
    h.update((try? encoder.encode(dataset)) ?? Data())
    return String(h.hexDigest().prefix(12))
  }
}
