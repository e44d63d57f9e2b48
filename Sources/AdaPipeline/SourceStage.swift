import AdaCompress
import AdaFormats
import AdaNN
import AdaProfile
import AdaRecipe
import AdaSearch
import AdaTensor
import AdaTrain
import Foundation

/// Stage 1 of `compress`: the source model (`BaselineStage`), the data, the devices, and what
/// every later stage is measured against — the source's test and validation accuracy, its
/// batch-1 latency as deployed, and the recipe's constraints in search terms.
enum SourceStage {
  struct Result {
    var baseline: BaselineStage.Result
    var data: PipelineData
    var devices: [DeviceProfile]
    /// The measured device the per-op table is for (`host`).
    var hostDevice: DeviceProfile?
    var profiling: ProfileOptions
    /// Test accuracy, 0–1.
    var accuracy: Double
    /// Accuracy on the validation examples that score search candidates.
    var validationAccuracy: Double
    /// Batch-1 latency of the source as deployed, ms.
    var latencyMs: Double
    /// Seconds to score the test split: a variant costs at most as much (sizes the emit reserve).
    var testEvaluationSeconds: Double
    /// The constraints the search holds: the recipe's, with the accuracy floor lowered by
    /// `output.finetune-slack`.
    var constraints: SearchConstraints
    /// The recipe's own accuracy floor (validation accuracy, 0–1), held by every fine-tuned
    /// variant; nil without an accuracy constraint.
    var accuracyFloor: Double?

    var model: Model { baseline.model }
  }

  static func run(
    _ recipe: Recipe, options: CompressPipeline.Options, work: WorkDirectory, budget: BudgetRun?,
    reserve: EmitReserve, log: PipelineLog
  ) throws(AdaError) -> Result {
    let started = Date()
    let baseline = try BaselineStage.run(
      recipe, work: work, budget: budget,
      reserve: { reserve.seconds(testEvaluationSeconds: $0, finetuneSecondsPerEpoch: $1) }, log: log)
    if case .architecture = recipe.model {
      budget?.record(
        "baseline", baseline.plan, unit: "steps", run: baseline.stepsRun ?? 0,
        spent: Date().timeIntervalSince(started))
    }
    let source = baseline.model
    let data = try PipelineData.load(recipe, for: source.graph)
    let devices = try recipe.deviceProfiles()
    let hostDevice = devices.first { $0.measured } ?? (try? DeviceCatalog.resolve("host"))
    let probe = ProbeConfig(budgetMs: options.probeBudgetMs, threads: 1)
    let profiling = ProfileOptions(
      probe: probe, cacheDirectory: options.latencyCache, version: options.version, measureEndToEnd: true)
    let evaluationStarted = Date()
    let accuracy = try Trainer.evaluate(
      source, on: data.test, batchSize: 256, objective: ClassificationObjective()
    ).accuracy
    let testEvaluationSeconds = Date().timeIntervalSince(evaluationStarted)
    // The source as it would be deployed: batch-norm folded and hand paddings folded into
    // `same` convolutions (the rewrites every variant gets), run by the same executor as the
    // variants, so a speed-up is the compression's alone.
    let deployed = try Deployment.folded(source)
    let profile = try Profiler.profile(
      graph: deployed.graph, parameters: deployed.parameters, options: profiling)
    let latency = profile.measured?.meanMs ?? profile.predicted.meanMs
    log.stage(
      String(
        format: "source %@: test accuracy %.2f%%, batch-1 latency %.4f ms on this host (as deployed: folded)",
        source.graph.name, accuracy * 100, latency))
    let validation = try Trainer.evaluate(
      source, on: data.searchValidation, batchSize: 256, objective: ClassificationObjective()
    ).accuracy
    let shipped = try constraints(recipe, sourceValidationAccuracy: validation)
    var searched = shipped
    if let floor = shipped.minAccuracy, recipe.output.finetuneSlack > 0 {
      searched.minAccuracy = max(0, floor - recipe.output.finetuneSlack)
      log.detail(
        String(
          format: "search floor %.2f%% (%.2f%% less the fine-tune slack of %.1f points)",
          searched.minAccuracy! * 100, floor * 100, recipe.output.finetuneSlack * 100))
    }
    return Result(
      baseline: baseline, data: data, devices: devices, hostDevice: hostDevice, profiling: profiling,
      accuracy: accuracy, validationAccuracy: validation, latencyMs: latency,
      testEvaluationSeconds: testEvaluationSeconds,
      constraints: searched, accuracyFloor: shipped.minAccuracy)
  }

  /// The recipe's constraints in search terms: an accuracy drop becomes a floor relative to the
  /// source's validation accuracy.
  static func constraints(_ recipe: Recipe, sourceValidationAccuracy: Double) throws(AdaError)
    -> SearchConstraints
  {
    let c = recipe.constraints
    var floor = c.minAccuracy
    if let drop = c.maxAccuracyDrop {
      floor = max(floor ?? 0, sourceValidationAccuracy - drop)
    }
    if let floor, floor > sourceValidationAccuracy {
      throw AdaError(
        .invalidValue, file: recipe.file, path: "constraints.min-accuracy",
        String(
          format:
            "min-accuracy %.4f is above the source model's own validation accuracy %.4f: no variant can meet it",
          floor, sourceValidationAccuracy),
        hint: "lower constraints.min-accuracy")
    }
    return SearchConstraints(minAccuracy: floor, maxLatencyMs: c.maxLatencyMs, maxMemoryMB: c.maxMemoryMB)
  }
}
