import AdaNN
import AdaTensor

/// A first-order optimizer that updates parameters in place from their gradients, exactly as
/// Keras 3 does (`keras/src/optimizers/base_optimizer.py`, `apply` → `_backend_apply_gradients`):
///
/// 1. parameters without a gradient are skipped entirely (Keras `_filter_empty_gradients`);
/// 2. decoupled weight decay `w ← w − w·wd·lr` on every updated parameter (`_apply_weight_decay`),
///    with the same learning rate as the update;
/// 3. the optimizer's rule (`update_step`), see `SGD` and `Adam`;
/// 4. `iterations += 1`.
///
/// The learning rate is the schedule's value at `state.iterations` (before the increment), as
/// Keras evaluates `LearningRateSchedule(self._iterations)`.
///
/// Only the keys passed in `keys` are touched: the trainer passes the trainable ones, so
/// non-trainable parameters (batch-norm moving statistics) never receive an update.
///
///     var opt = OptimizerConfig.adam().makeOptimizer()
///     opt.apply(gradients: grads, to: &params, keys: trainableKeys,
///               learningRate: schedule.learningRate(at: opt.state.iterations), weightDecay: 0)
public protocol Optimizer: Sendable {
  /// The hyper-parameters this optimizer was built from.
  var config: OptimizerConfig { get }
  /// Step count and slot tensors; everything a checkpoint needs to continue bit-identically.
  var state: OptimizerState { get set }

  /// One update of every parameter named in `keys` that has a gradient.
  ///
  /// - Parameters:
  ///   - gradients: dLoss/dParameter, keyed like `parameters`, shapes equal.
  ///   - keys: the parameter keys to update (trainable ones), in a fixed order.
  ///   - weightDecay: Keras `weight_decay`; 0 disables it.
  mutating func apply(
    gradients: Parameters, to parameters: inout Parameters, keys: [String],
    learningRate: Float, weightDecay: Double)
}

/// Optimizer hyper-parameters as data (the learning rate comes from the schedule).
/// Defaults are Keras's. Values are `Double` like Keras's Python floats, cast to Float32 at the
/// same places Keras casts them, so the arithmetic matches operation for operation.
public enum OptimizerConfig: Codable, Hashable, Sendable {
  /// Keras `SGD(momentum=, nesterov=)`.
  case sgd(momentum: Double = 0, nesterov: Bool = false)
  /// Keras `Adam(beta_1=, beta_2=, epsilon=)` (no AMSGrad).
  case adam(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7)

  /// Stable id, as used in checkpoints and reports.
  public var kindName: String {
    switch self {
    case .sgd: "sgd"
    case .adam: "adam"
    }
  }

  /// A fresh optimizer (no slots, `iterations == 0`).
  public func makeOptimizer() -> any Optimizer {
    switch self {
    case .sgd(let momentum, let nesterov): SGD(momentum: momentum, nesterov: nesterov)
    case .adam(let b1, let b2, let eps): Adam(beta1: b1, beta2: b2, epsilon: eps)
    }
  }

  /// Checks ranges; errors name the offending field under `path`.
  public func validate(path: String = "optimizer") throws(AdaError) {
    switch self {
    case .sgd(let momentum, _):
      guard momentum >= 0 && momentum <= 1 else {
        throw AdaError(
          .invalidValue, path: "\(path).momentum", "expected a value in [0, 1], found \(momentum)")
      }
    case .adam(let b1, let b2, let eps):
      for (name, v) in [("beta1", b1), ("beta2", b2)] where !(v >= 0 && v < 1) {
        throw AdaError(.invalidValue, path: "\(path).\(name)", "expected a value in [0, 1), found \(v)")
      }
      guard eps > 0 else {
        throw AdaError(.invalidValue, path: "\(path).epsilon", "expected a positive value, found \(eps)")
      }
    }
  }
}

/// What an optimizer carries from step to step.
public struct OptimizerState: Sendable, Equatable {
  /// Updates applied so far (Keras `optimizer.iterations`).
  public var iterations: Int
  /// Slot tensors by slot name (`momentum`; Adam's `m`, `v`), each keyed like the parameters.
  /// A slot entry appears, zero-filled, the first time its parameter is updated (Keras `build`).
  public var slots: [String: Parameters]

  public init(iterations: Int = 0, slots: [String: Parameters] = [:]) {
    self.iterations = iterations
    self.slots = slots
  }
}

/// JSON form (`{"iterations": 3, "slots": {"m": {"d/kernel": {"shape": [2], "scalars": [..]}}}}`),
/// for tools and tests; checkpoints store the slots as raw Float32 blobs instead (`Checkpoint`).
extension OptimizerState: Codable {
  private enum Key: String, CodingKey { case iterations, slots }

  private struct StoredTensor: Codable {
    var shape: [Int]
    var scalars: [Float]
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Key.self)
    iterations = try c.decode(Int.self, forKey: .iterations)
    let stored = try c.decode([String: [String: StoredTensor]].self, forKey: .slots)
    slots = [:]
    for (slot, tensors) in stored {
      var p = Parameters()
      for (key, t) in tensors {
        guard t.shape.allSatisfy({ $0 >= 0 }), t.shape.elementCount == t.scalars.count else {
          throw DecodingError.dataCorruptedError(
            forKey: .slots, in: c,
            debugDescription: "\(slot)/\(key): shape \(t.shape) does not hold \(t.scalars.count) scalars")
        }
        p.tensors[key] = Tensor(shape: t.shape, scalars: t.scalars)
      }
      slots[slot] = p
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(iterations, forKey: .iterations)
    try c.encode(
      slots.mapValues { $0.tensors.mapValues { StoredTensor(shape: $0.shape, scalars: $0.scalars) } },
      forKey: .slots)
  }
}

extension OptimizerState {
  /// Removes `slots[slot][key]` from the store (zero-filled with `shape` the first time, as Keras
  /// `build` does) so the caller can update it in place without a copy; put it back afterwards.
  mutating func takeSlot(_ slot: String, _ key: String, shape: [Int]) -> Tensor {
    slots[slot, default: Parameters()].tensors.removeValue(forKey: key) ?? Tensor(shape: shape)
  }
}

/// Keras `_apply_weight_decay`: `variable.assign(variable - variable * wd * lr)`, with `wd` and
/// `lr` cast to Float32. Shared by every optimizer.
@inlinable
func applyWeightDecay(_ w: UnsafeMutableBufferPointer<Float>, weightDecay: Double, learningRate: Float) {
  if weightDecay == 0 { return }
  let wd = Float(weightDecay)
  let lr = learningRate
  for i in 0..<w.count { w[i] = w[i] - w[i] * wd * lr }
}

/// Checks a gradient against its parameter (programmer error if they differ).
@inlinable
func checkGradient(_ key: String, _ parameter: Tensor?, _ gradient: Tensor) {
  precondition(parameter != nil, "Optimizer: gradient for \(key) but no such parameter")
  precondition(
    parameter!.shape == gradient.shape,
    "Optimizer: \(key) has shape \(parameter!.shape) but its gradient is \(gradient.shape)")
}
