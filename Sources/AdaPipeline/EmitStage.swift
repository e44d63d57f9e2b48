import AdaBundle
import AdaBundleWriter
import AdaCompress
import AdaNN
import AdaProfile
import AdaRecipe
import AdaTensor
import AdaTrain
import Foundation

/// Turns picked configurations into shippable variants: the standalone model (shared weights,
/// batch-norm recalibrated), an optional short distillation fine-tune (held to the recipe's
/// accuracy floor on the validation split afterwards), batch-norm folded into
/// the convolutions, quantised kernels re-quantised on the folded weights (the same integers:
/// per-output-channel scales absorb the fold), test accuracy of exactly those weights, measured
/// batch-1 latency, and one lookup-table row per device × context.
struct EmitStage {
  let recipe: Recipe
  let evaluator: SubnetEvaluator
  let data: PipelineData
  let profiling: ProfileOptions
  let hostDevice: DeviceProfile?
  let modelledDevices: [DeviceProfile]
  /// The recipe's accuracy floor (validation): a fine-tuned variant below it is not shipped.
  let accuracyFloor: Double?
  /// Fine-tune epochs per variant: the recipe's, or what a budget affords (`BudgetRun.planFinetune`).
  var finetuneEpochs: Int
  let log: PipelineLog

  struct Emitted {
    var payload: VariantPayload
    var entry: Manifest.Variant
    var rows: [LookupTable.Row]
    var opTable: OpTable
  }

  /// The variant of `candidate`, or nil when its fine-tune left it below `accuracyFloor`
  /// (the search kept it within `output.finetune-slack` of the floor).
  func emit(_ candidate: VariantSelection.Candidate, id: String) throws(AdaError) -> Emitted? {
    let config = candidate.config
    let subnet = try evaluator.supernet.materialize(config)
    var (model, _) = try evaluator.model(for: config)
    if finetuneEpochs > 0 {
      let quantized = try subnet.quantize(model).quantized
      model = try teacher(for: config).fineTune(
        model, on: evaluator.supernet.inputs(data.train, for: config), options: finetuneOptions,
        quantized: quantized
      ).model
    }
    let folded = try Deployment.folded(model)
    let (final, quantized) = try subnet.quantize(folded)
    // Held to the floor whenever the search was not (slack) or the weights moved (fine-tune).
    if finetuneEpochs > 0 || recipe.output.finetuneSlack > 0, let floor = accuracyFloor {
      let validation = try Trainer.evaluate(
        final, on: evaluator.supernet.inputs(data.searchValidation, for: config), batchSize: 256,
        objective: ClassificationObjective()
      ).accuracy
      let figures = String(
        format: "validation accuracy %.2f%%%@ (search %.2f%%), floor %.2f%%", validation * 100,
        finetuneEpochs > 0 ? " after the fine-tune" : "", candidate.accuracy * 100, floor * 100)
      guard validation >= floor else {
        log.detail("not shipped, below the floor: \(evaluator.supernet.summary(config)): \(figures)")
        return nil
      }
      log.detail("\(id): \(figures)")
    }
    let accuracy = try Trainer.evaluate(
      final, on: evaluator.supernet.inputs(data.test, for: config), batchSize: 256,
      objective: ClassificationObjective()
    )
    .accuracy

    var options = profiling
    options.measureEndToEnd = true
    options.bits = quantized.bitsByNode
    let profile = try Profiler.profile(graph: final.graph, parameters: final.parameters, options: options)
    // The manifest's energy and memory: the host at the nominal context, as the search scored it.
    let nominal = try ProfileReport(
      profile: profile, hostDevice: hostDevice, devices: [], context: DeviceContext(), batch: 1,
      bits: options.bits, probe: options.probe)
    let memory = nominal.memory.batch1
    var rows: [LookupTable.Row] = []
    var table = nominal.table
    for (k, named) in recipe.targets.contexts.enumerated() {
      let report = try ProfileReport(
        profile: profile, hostDevice: hostDevice, devices: modelledDevices, context: named.context, batch: 1,
        bits: options.bits, probe: options.probe)
      if k == 0 { table = report.table }  // per-op rows for every device
      for d in report.devices {
        rows.append(
          LookupTable.Row(
            variant: id, device: d.device, source: d.source, context: named.name, latencyMs: d.latency.meanMs,
            latencyStdMs: d.latency.sdMs, energyMj: d.energyMJ ?? 0, memoryBytes: d.peakMemoryBytes,
            accuracy: accuracy, feasible: d.feasible))
      }
    }
    let costs = try final.graph.costs().total
    let measured = profile.measured?.meanMs ?? profile.predicted.meanMs
    let entry = Manifest.Variant(
      id: id, file: BundleWriter.variantFile(id: id), genome: config, accuracy: accuracy,
      searchAccuracy: candidate.accuracy, latencyMs: measured, predictedLatencyMs: profile.predicted.meanMs,
      params: costs.params, macs: costs.macs, weightBytes: memory.weightBytes,
      peakMemoryBytes: memory.peakBytes,
      energyMj: nominal.devices.first?.energyMJ ?? 0, summary: evaluator.supernet.summary(config),
      inputShape: final.graph.inputShape)
    log.detail(
      String(
        format: "%@: test accuracy %.2f%%, %.4f ms measured (%.4f predicted), %d params, %d MACs — %@", id,
        accuracy * 100, measured, profile.predicted.meanMs, costs.params, costs.macs,
        evaluator.supernet.summary(config)))
    return Emitted(
      payload: VariantPayload(id: id, model: final, quantized: quantized), entry: entry, rows: rows,
      opTable: table)
  }

  var finetuneOptions: FineTuneOptions {
    let t = recipe.supernet.training
    return FineTuneOptions(
      epochs: finetuneEpochs, batchSize: t.batchSize, learningRate: recipe.output.finetuneLearningRate,
      seed: t.seed)
  }

  /// Seconds of one fine-tune epoch of `candidate`, timed on a few steps of the real thing
  /// (teacher included; the weights are discarded).
  func finetuneSecondsPerEpoch(_ candidate: VariantSelection.Candidate) throws(AdaError) -> Double {
    let config = candidate.config
    let (model, _) = try evaluator.model(for: config)
    let inputs = try evaluator.supernet.inputs(data.train, for: config)
    let stepsPerEpoch = (inputs.count + finetuneOptions.batchSize - 1) / finetuneOptions.batchSize
    let perStep = try BudgetProbe.baseline(
      model, config: finetuneOptions.trainConfig(distillation: teacher(for: config), examples: inputs.count),
      on: inputs, recipeSteps: stepsPerEpoch * max(1, recipe.output.finetuneEpochs),
      stepsPerEpoch: stepsPerEpoch)
    return perStep * Double(stepsPerEpoch)
  }

  /// Who teaches `config` in its fine-tune (`Supernet.distillation(for:train:alpha:temperature:)`).
  func teacher(for config: SubnetConfig) -> Distillation {
    let t = recipe.supernet.training
    return evaluator.supernet.distillation(
      for: config, train: data.train, alpha: Float(t.alpha), temperature: Float(t.temperature))
  }
}
