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
/// batch-norm recalibrated), an optional short distillation fine-tune, batch-norm folded into
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
  let log: PipelineLog

  struct Emitted {
    var payload: VariantPayload
    var entry: Manifest.Variant
    var rows: [LookupTable.Row]
    var opTable: OpTable
  }

  func emit(_ candidate: VariantSelection.Candidate, id: String) throws(AdaError) -> Emitted {
    let config = candidate.config
    let subnet = try evaluator.supernet.materialize(config)
    var (model, _) = try evaluator.model(for: config)
    if recipe.output.finetuneEpochs > 0 {
      let t = recipe.supernet.training
      let teacher = Distillation(
        teacher: evaluator.supernet.teacher(for: config), alpha: Float(t.alpha),
        temperature: Float(t.temperature))
      let quantized = try subnet.quantize(model).quantized
      model = try teacher.fineTune(
        model, on: evaluator.supernet.inputs(data.train, for: config),
        options: FineTuneOptions(epochs: recipe.output.finetuneEpochs, batchSize: t.batchSize, seed: t.seed),
        quantized: quantized
      ).model
    }
    let folded = try Deployment.folded(model)
    let (final, quantized) = try subnet.quantize(folded)
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
}
