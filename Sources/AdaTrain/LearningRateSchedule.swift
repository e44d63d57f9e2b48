import AdaTensor
import Foundation

/// The learning rate as a pure function of the optimizer step (0-based: the value used by update
/// number `step + 1`, as Keras evaluates a schedule at `optimizer.iterations`).
///
/// A base decay, optionally preceded by a linear warm-up:
///
///     step < warmupSteps:  lr = warmupStart + (initial − warmupStart) · step / warmupSteps
///     otherwise:           lr = decay(initial, step − warmupSteps)
///
/// Decays (s = step after warm-up):
/// - `constant`:                   `initial`
/// - `step(every: k, factor: f)`:  `initial · f^⌊s / k⌋` (Keras `ExponentialDecay(staircase=True)`)
/// - `cosine(decaySteps: d, floor: lo)`: `lo + (initial − lo) · ½(1 + cos(π · min(s, d) / d))`,
///   i.e. Keras `CosineDecay` with `alpha = lo / initial`; stays at `lo` after `d` steps.
///
/// The warm-up matches Keras `CosineDecay(initial_learning_rate=warmupStart,
/// warmup_target=initial, warmup_steps=…)`, applied in front of any decay.
/// Values are computed in double precision and rounded to Float32 once.
///
///     let s = LearningRateSchedule.cosine(initial: 0.1, decaySteps: 1000, floor: 0.001)
///       .withWarmup(steps: 100)
///     s.learningRate(at: 50)   // 0.05
public struct LearningRateSchedule: Codable, Hashable, Sendable {
  public enum Decay: Codable, Hashable, Sendable {
    case constant
    case step(every: Int, factor: Double)
    case cosine(decaySteps: Int, floor: Double)
  }

  /// The learning rate at the end of warm-up (or at step 0 without warm-up).
  public var initial: Double
  public var decay: Decay
  /// Steps of linear warm-up in front of the decay; 0 disables it.
  public var warmupSteps: Int
  /// Learning rate at step 0 of the warm-up.
  public var warmupStart: Double

  public init(initial: Double, decay: Decay = .constant, warmupSteps: Int = 0, warmupStart: Double = 0) {
    self.initial = initial
    self.decay = decay
    self.warmupSteps = warmupSteps
    self.warmupStart = warmupStart
  }

  public static func constant(_ lr: Double) -> LearningRateSchedule {
    LearningRateSchedule(initial: lr)
  }

  public static func stepDecay(initial: Double, every: Int, factor: Double) -> LearningRateSchedule {
    LearningRateSchedule(initial: initial, decay: .step(every: every, factor: factor))
  }

  public static func cosine(initial: Double, decaySteps: Int, floor: Double = 0) -> LearningRateSchedule {
    LearningRateSchedule(initial: initial, decay: .cosine(decaySteps: decaySteps, floor: floor))
  }

  /// The same schedule with a linear warm-up of `steps` steps from `start` in front of it.
  public func withWarmup(steps: Int, from start: Double = 0) -> LearningRateSchedule {
    var s = self
    s.warmupSteps = steps
    s.warmupStart = start
    return s
  }

  /// Learning rate for optimizer step `step` (0-based).
  public func learningRate(at step: Int) -> Float {
    precondition(step >= 0, "LearningRateSchedule: negative step \(step)")
    if step < warmupSteps {
      let fraction = Double(step) / Double(warmupSteps)
      return Float(warmupStart + (initial - warmupStart) * fraction)
    }
    let s = step - warmupSteps
    switch decay {
    case .constant:
      return Float(initial)
    case .step(let every, let factor):
      return Float(initial * pow(factor, Double(s / every)))
    case .cosine(let decaySteps, let floor):
      let fraction = Double(min(s, decaySteps)) / Double(decaySteps)
      return Float(floor + (initial - floor) * 0.5 * (1 + cos(Double.pi * fraction)))
    }
  }

  /// Checks ranges; errors name the offending field under `path`.
  public func validate(path: String = "schedule") throws(AdaError) {
    guard initial.isFinite && initial >= 0 else {
      throw AdaError(
        .invalidValue, path: "\(path).initial", "expected a non-negative learning rate, found \(initial)")
    }
    guard warmupSteps >= 0 else {
      throw AdaError(.invalidValue, path: "\(path).warmupSteps", "expected ≥ 0, found \(warmupSteps)")
    }
    guard warmupStart.isFinite && warmupStart >= 0 else {
      throw AdaError(.invalidValue, path: "\(path).warmupStart", "expected ≥ 0, found \(warmupStart)")
    }
    switch decay {
    case .constant: break
    case .step(let every, let factor):
      guard every > 0 else {
        throw AdaError(.invalidValue, path: "\(path).every", "expected a positive step count, found \(every)")
      }
      guard factor.isFinite && factor > 0 else {
        throw AdaError(.invalidValue, path: "\(path).factor", "expected a positive factor, found \(factor)")
      }
    case .cosine(let decaySteps, let floor):
      guard decaySteps > 0 else {
        throw AdaError(
          .invalidValue, path: "\(path).decaySteps", "expected a positive step count, found \(decaySteps)")
      }
      guard floor >= 0 && floor <= initial else {
        throw AdaError(
          .invalidValue, path: "\(path).floor",
          "expected a value in [0, initial = \(initial)], found \(floor)")
      }
    }
  }
}
