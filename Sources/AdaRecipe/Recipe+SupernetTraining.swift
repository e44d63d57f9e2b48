import AdaFormats
import AdaIO
import AdaTensor

extension Recipe {
  /// How the supernet is trained (`supernet.training:`): one run of self-evolving training in
  /// which every step runs the largest configuration, the smallest and `randomSubnets` random
  /// ones (the sandwich rule), each smaller one distilled from the largest.
  public struct SupernetTrainingSpec: Codable, Hashable, Sendable {
    /// Passes over the training part of the dataset.
    public var epochs: Int = 4
    public var batchSize: Int = 64
    /// Adam learning rate.
    public var learningRate: Double = 0.001
    /// Random configurations per step besides the largest and the smallest.
    public var randomSubnets: Int = 2
    /// Weight of the distillation term (teacher = the largest configuration): loss =
    /// (1 − α)·CE(labels) + α·T²·KL(teacher_T ‖ student_T).
    public var alpha: Double = 0.5
    /// Distillation temperature T.
    public var temperature: Double = 2.0
    /// Batches of calibration examples that re-estimate batch-norm statistics for a
    /// configuration before it is evaluated.
    public var recalibrationBatches: Int = 8
    /// Seeds configuration sampling, shuffling and new branch parameters.
    public var seed: UInt64 = 0
    /// Progressive shrinking: fraction of the run over which the sampled space opens from the
    /// largest configuration to all of it (0: all of it from the start).
    public var progressive: Double = 0

    public init() {}

    static let keys = [
      "epochs", "batch-size", "learning-rate", "random-subnets", "alpha", "temperature",
      "recalibration-batches", "seed", "progressive",
    ]

    static func decode(_ v: YAMLValue) throws(AdaError) -> SupernetTrainingSpec {
      try v.checkRecipeSection(keys)
      var t = SupernetTrainingSpec()
      t.epochs = try v["epochs"].int(atLeast: 1, default: t.epochs)
      t.batchSize = try v["batch-size"].int(atLeast: 1, default: t.batchSize)
      t.learningRate = try v["learning-rate"].number(in: "(0, 10]", default: t.learningRate) {
        $0 > 0 && $0 <= 10
      }
      t.randomSubnets = try v["random-subnets"].int(atLeast: 0, default: t.randomSubnets)
      t.alpha = try v["alpha"].number(in: "[0, 1]", default: t.alpha) { $0 >= 0 && $0 <= 1 }
      t.temperature = try v["temperature"].number(in: "(0, 100]", default: t.temperature) {
        $0 > 0 && $0 <= 100
      }
      t.recalibrationBatches = try v["recalibration-batches"].int(
        atLeast: 1, default: t.recalibrationBatches)
      t.seed = try v["seed"].seed()
      t.progressive = try v["progressive"].number(in: "[0, 1]", default: t.progressive) { $0 >= 0 && $0 <= 1 }
      return t
    }
  }
}
