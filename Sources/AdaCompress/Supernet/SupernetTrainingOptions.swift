import AdaTensor

/// How a supernet is trained (the recipe's `supernet.training` section).
public struct SupernetTrainingOptions: Codable, Hashable, Sendable {
  public var epochs: Int
  public var batchSize: Int
  /// Adam's initial learning rate, decayed by a cosine to 5% over the run.
  public var learningRate: Double
  /// Random configurations per step, besides the largest and the smallest.
  public var randomSubnets: Int
  /// Distillation weight α and temperature T of the in-place distillation.
  public var alpha: Float
  public var temperature: Float
  /// Batches of `batchSize` used to recalibrate batch-norm before each evaluation.
  public var recalibrationBatches: Int
  public var seed: UInt64
  /// Also checkpoint every this many steps (besides every epoch).
  public var checkpointEverySteps: Int?
  /// Progressive shrinking: the fraction of the run over which the sampled space opens from
  /// the largest configuration to the whole space (`Supernet.random(using:openness:)`); 0
  /// samples the whole space from the first step.
  public var progressive: Double

  /// How open the space is at `step` of `totalSteps`: rises linearly to 1 over the first
  /// `progressive` fraction of the run.
  public func openness(atStep step: Int, of totalSteps: Int) -> Double {
    guard progressive > 0, totalSteps > 0 else { return 1 }
    return min(1, Double(step) / (progressive * Double(totalSteps)))
  }
  /// Optimizer steps to run in all (a budget's plan), at most `epochs` × steps per epoch: the
  /// run stops after this many, the last epoch possibly partial, and the cosine decays over
  /// them. nil = every step of `epochs` epochs.
  public var plannedSteps: Int?

  public init(
    epochs: Int = 4, batchSize: Int = 64, learningRate: Double = 5e-4, randomSubnets: Int = 2,
    alpha: Float = 0.5, temperature: Float = 2, recalibrationBatches: Int = 8, seed: UInt64 = 0,
    checkpointEverySteps: Int? = nil, progressive: Double = 0
  ) {
    self.epochs = epochs
    self.batchSize = batchSize
    self.learningRate = learningRate
    self.randomSubnets = randomSubnets
    self.alpha = alpha
    self.temperature = temperature
    self.recalibrationBatches = recalibrationBatches
    self.seed = seed
    self.checkpointEverySteps = checkpointEverySteps
    self.progressive = progressive
  }

  public func validate() throws(AdaError) {
    let path = "supernet.training"
    guard epochs >= 0 else {
      throw AdaError(.invalidValue, path: "\(path).epochs", "expected ≥ 0, found \(epochs)")
    }
    guard batchSize >= 1 else {
      throw AdaError(.invalidValue, path: "\(path).batch-size", "expected ≥ 1, found \(batchSize)")
    }
    guard learningRate > 0, learningRate.isFinite else {
      throw AdaError(.invalidValue, path: "\(path).learning-rate", "expected > 0, found \(learningRate)")
    }
    guard randomSubnets >= 0 else {
      throw AdaError(.invalidValue, path: "\(path).random-subnets", "expected ≥ 0, found \(randomSubnets)")
    }
    guard alpha >= 0, alpha <= 1 else {
      throw AdaError(.invalidValue, path: "\(path).alpha", "expected a value in [0, 1], found \(alpha)")
    }
    guard temperature > 0 else {
      throw AdaError(.invalidValue, path: "\(path).temperature", "expected > 0, found \(temperature)")
    }
    guard recalibrationBatches >= 1 else {
      throw AdaError(
        .invalidValue, path: "\(path).recalibration-batches", "expected ≥ 1, found \(recalibrationBatches)")
    }
    guard progressive >= 0, progressive <= 1 else {
      throw AdaError(
        .invalidValue, path: "\(path).progressive", "expected a fraction in [0, 1], found \(progressive)")
    }
    if let planned = plannedSteps, planned < 1 {
      throw AdaError(.invalidValue, path: "budget", "expected ≥ 1 planned supernet step, found \(planned)")
    }
    if let every = checkpointEverySteps, every < 1 {
      throw AdaError(.invalidValue, path: "\(path).checkpoint-every", "expected ≥ 1, found \(every)")
    }
  }
}
