import AdaCore
import AdaFormats
import AdaIO
import AdaNN
import AdaRecipe
import AdaTensor
import AdaTrain
import Foundation

/// The model the pipeline compresses: the recipe's Keras file, or a baseline trained from the
/// recipe's architecture (checkpointed in the work directory, so a killed run resumes and a
/// finished one is reused). Under a budget the baseline runs the planned number of steps, its
/// cosine decaying over them. `reserve` estimates the emit reserve from the probe (the seconds to
/// score the test split, and of one training epoch) until the supernet stage measures it.
enum BaselineStage {
  struct Result {
    var model: Model
    /// The file the model was read from (the trained baseline's `.h5` when trained).
    var file: String
    var trainingSeconds: Double
    /// The budget's plan for the baseline (nil without a budget or a baseline to train).
    var plan: BudgetPlan.Stage?
    /// Optimizer steps the baseline was trained for, when known.
    var stepsRun: Int?
  }

  static func run(
    _ recipe: Recipe, work: WorkDirectory, budget: BudgetRun?,
    reserve: (_ testEvaluationSeconds: Double, _ epochSeconds: Double) -> Double = { _, _ in 0 },
    log: PipelineLog
  ) throws(AdaError) -> Result {
    switch recipe.model {
    case .file(let path, let config):
      let resolved = recipe.resolve(path)
      let model: Model
      do {
        model = try KerasFile.load(path: resolved, config: config.map(recipe.resolve))
      } catch {
        throw error.at("model.file")
      }
      return Result(model: model, file: resolved, trainingSeconds: 0, plan: nil, stepsRun: nil)
    case .architecture(let path, let training):
      let graph = try ArchitectureFile.load(path: recipe.resolve(path))
      let initial = Model(
        graph: graph, parameters: try Parameters.initialize(for: graph, seed: training.seed))
      var loaded: PipelineData?
      func data() throws(AdaError) -> PipelineData {
        if let loaded { return loaded }
        let d = try PipelineData.load(recipe, for: graph)
        loaded = d
        return d
      }
      // The schedule's steps per epoch (whole batches), as `adascale train` computes them; the
      // trainer also runs a last partial batch per epoch.
      func scheduleSteps() throws(AdaError) -> Int { try data().train.count / training.batchSize }
      let plan = try budget?.planBaseline { () throws(AdaError) in
        let (train, test) = (try data().train, try data().test)
        let stepsPerEpoch = (train.count + training.batchSize - 1) / training.batchSize
        let recipeSteps = stepsPerEpoch * training.epochs
        let perStep = try BudgetProbe.baseline(
          initial, config: training.trainConfig(stepsPerEpoch: try scheduleSteps()), on: train,
          recipeSteps: recipeSteps, stepsPerEpoch: stepsPerEpoch)
        // Scoring the test split takes about a third of a training step per example (forward
        // only), the measure the emit reserve is sized by until the source itself is timed.
        let testEvaluation = Double(test.count) / Double(training.batchSize) * perStep / 3
        return (recipeSteps, stepsPerEpoch, perStep, reserve(testEvaluation, Double(stepsPerEpoch) * perStep))
      }
      // Only a plan that shortens the run changes what is trained (and the file's name).
      let plannedSteps = plan.flatMap { $0.planned < $0.recipe ? $0.planned : nil }
      let key = try baselineKey(
        architecture: recipe.resolve(path), training: training, dataset: recipe.dataset,
        plannedSteps: plannedSteps)
      let output = work.path("baseline-\(key).h5")
      if FileManager.default.fileExists(atPath: output) {
        log.stage("baseline: reusing \(output)")
        return Result(
          model: try KerasModelReader.load(path: output), file: output, trainingSeconds: 0, plan: plan,
          stepsRun: plan?.planned)
      }
      let train = try data().train
      var config = training.trainConfig(stepsPerEpoch: try scheduleSteps(), plannedSteps: plannedSteps)
      config.checkpointDirectory = work.path("baseline-\(key)")
      config.resume = true
      log.stage(
        "baseline: training \(graph.name) from \(path) for "
          + (plannedSteps.map { "\($0) steps (budget)" } ?? "\(training.epochs) epochs")
          + " on \(train.count) examples")
      let started = Date()
      let result = try Trainer(config: config, reporter: log.trainingReporter).fit(
        initial, on: train, stopWhen: plannedSteps.map { n in { $0.globalStep >= n } })
      try KerasModelWriter.save(result.model, to: output)
      return Result(
        model: result.model, file: output, trainingSeconds: Date().timeIntervalSince(started), plan: plan,
        stepsRun: result.position.globalStep)
    }
  }

  /// A short hash of what decides the baseline (architecture text, training and dataset
  /// sections): a baseline trained from other settings is never reused.
  static func baselineKey(
    architecture: String, training: Recipe.BaselineTraining, dataset: Recipe.DatasetSpec,
    plannedSteps: Int? = nil
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
    if let plannedSteps { h.update(Data("budget-planned-steps \(plannedSteps)".utf8)) }
    return String(h.hexDigest().prefix(12))
  }
}
