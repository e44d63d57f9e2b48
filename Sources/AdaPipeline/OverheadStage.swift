import AdaBundle
import AdaBundleWriter
import AdaCompress
import AdaNN
import AdaRecipe
import AdaTensor
import AdaTrain
import Foundation

/// The training-overhead comparison of design.md §5 (the paper reports 66.89% less): what it
/// would cost to get the bundle's variants *without* the supernet, by fine-tuning each one on
/// its own. Each emitted configuration is rebuilt from the source model alone (an untrained
/// supernet: operator-initialised branches, L1-ranked channels, batch-norm recalibrated), then
/// fine-tuned by distillation from the source one epoch at a time until its test accuracy
/// reaches the bundle's, or `maxEpochs` run out (then its time counts as a lower bound and the
/// report says so). Only training time is counted, not evaluation. Under a budget, no epoch
/// starts that would end past `limitSeconds` of the stage (judged by the last epoch's time); the
/// variants it cuts short count as not reached.
enum OverheadStage {
  static let maxEpochs = 3

  static func run(
    _ recipe: Recipe, source: Model, emitted: [EmitStage.Emitted], supernetSeconds: Double,
    data: PipelineData,
    evaluator: SubnetEvaluator, work: WorkDirectory, limitSeconds: Double? = nil, log: PipelineLog
  ) throws(AdaError) -> (overhead: ReportData.TrainingOverhead, epochs: Int) {
    let stageStarted = Date()
    var lastEpochSeconds = 0.0
    var epochsRun = 0
    log.stage("overhead: fine-tuning the \(emitted.count) variants one by one to the bundle's accuracy")
    let untrained = SubnetEvaluator(
      supernet: try Supernet(source: source, options: evaluator.supernet.options),
      calibration: data.calibration, batchSize: evaluator.batchSize,
      recalibrationBatches: evaluator.recalibrationBatches)
    let t = recipe.supernet.training
    let net = untrained.supernet
    var total = 0.0
    var unreached: [String] = []
    for e in emitted {
      let target = e.entry.accuracy
      let config = e.entry.genome
      let (train, test) = (try net.inputs(data.train, for: config), try net.inputs(data.test, for: config))
      let teacher = net.distillation(
        for: config, train: data.train, alpha: Float(t.alpha), temperature: Float(t.temperature))
      var (model, quantized) = try untrained.model(for: config)
      var seconds = 0.0
      var accuracy = try testAccuracy(model, test)
      var epochs = 0
      while accuracy < target && epochs < maxEpochs {
        if let limitSeconds, Date().timeIntervalSince(stageStarted) + lastEpochSeconds > limitSeconds {
          log.detail("\(e.entry.id): the budget's share for this stage is spent")
          break
        }
        let started = Date()
        model = try teacher.fineTune(
          model, on: train,
          options: FineTuneOptions(
            epochs: 1, batchSize: t.batchSize, decay: .constant, seed: t.seed &+ UInt64(epochs)),
          quantized: quantized
        ).model
        lastEpochSeconds = Date().timeIntervalSince(started)
        seconds += lastEpochSeconds
        epochs += 1
        epochsRun += 1
        (model, quantized) = quantized.projecting(model)
        accuracy = try testAccuracy(model, test)
      }
      if accuracy < target { unreached.append(e.entry.id) }
      total += seconds
      log.detail(
        String(
          format: "%@: %.2f%% → %.2f%% (target %.2f%%) after %d epoch(s), %.1f s", e.entry.id,
          try testAccuracy(untrained.model(for: config).model, test) * 100, accuracy * 100,
          target * 100,
          epochs, seconds))
    }
    if !unreached.isEmpty {
      log.detail(
        "not reached within \(maxEpochs) epochs: \(unreached.joined(separator: ", ")) (their time is a lower bound)"
      )
    }
    let overhead = ReportData.TrainingOverhead(supernetSeconds: supernetSeconds, oneByOneSeconds: total)
    log.stage(
      String(
        format: "overhead: supernet %.0f s vs one by one %.0f s: %.1f%% less", supernetSeconds, total,
        overhead.savingPercent))
    return (overhead, epochsRun)
  }

  static func testAccuracy(_ model: Model, _ test: LabeledDataset) throws(AdaError) -> Double {
    try Trainer.evaluate(model, on: test, batchSize: 256, objective: ClassificationObjective()).accuracy
  }
}
