import AdaNN
import AdaTensor
import AdaTrain

/// Turns supernet configurations into ready-to-run models and scores them: materialise, gather
/// the shared weights, quantise, recalibrate batch-norm on a fixed calibration set, evaluate.
/// Deterministic per configuration (the calibration batches are always the same examples).
public struct SubnetEvaluator: Sendable {
  public let supernet: Supernet
  public let calibration: LabeledDataset
  public let batchSize: Int
  public let recalibrationBatches: Int

  public init(supernet: Supernet, calibration: LabeledDataset, batchSize: Int, recalibrationBatches: Int) {
    self.supernet = supernet
    self.calibration = calibration
    self.batchSize = batchSize
    self.recalibrationBatches = recalibrationBatches
  }

  /// The configuration as a standalone model with recalibrated batch-norm statistics; quantised
  /// blocks hold their dequantised values, `quantized` their integers and scales.
  public func model(for config: SubnetConfig) throws(AdaError) -> (model: Model, quantized: QuantizedWeights)
  {
    let (model, quantized) = try supernet.materialize(config).model(from: supernet.weights)
    let recalibrated = try BatchNormRecalibration.recalibrate(
      model, on: supernet.inputs(calibration, for: config), batchSize: batchSize,
      batches: recalibrationBatches)
    return (recalibrated, quantized)
  }

  /// Top-1 accuracy of the configuration on `data` (resized to its resolution).
  public func accuracy(of config: SubnetConfig, on data: LabeledDataset) throws(AdaError) -> Double {
    try Trainer.evaluate(
      model(for: config).model, on: supernet.inputs(data, for: config), batchSize: 256,
      objective: ClassificationObjective()
    ).accuracy
  }
}
