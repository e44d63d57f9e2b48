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
      let output = work.path("baseline.h5")
      if FileManager.default.fileExists(atPath: output) {
        log.stage("baseline: reusing \(output)")
        return Result(model: try KerasModelReader.load(path: output), file: output, trainingSeconds: 0)
      }
      let graph = try ArchitectureFile.load(path: recipe.resolve(path))
      let initial = Model(
        graph: graph, parameters: try Parameters.initialize(for: graph, seed: training.seed))
      let data = try PipelineData.load(recipe, for: graph)
      var config = training.trainConfig(stepsPerEpoch: data.train.count / training.batchSize)
      config.checkpointDirectory = work.path("baseline")
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
}
