import AdaNN
import AdaTensor

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Adam, as Keras 3 implements it in `keras/src/optimizers/adam.py` (`Adam.update_step`,
/// `amsgrad=False`), all arithmetic in Float32:
///
///     t     = iterations + 1
///     alpha = lr · sqrt(1 − β2^t) / (1 − β1^t)
///     m     = m + (g − m)·(1 − β1)
///     v     = v + (g² − v)·(1 − β2)
///     w     = w − (m·alpha) / (sqrt(v) + ε)
///
/// `β1^t`, `β2^t` are Float32 powers of the Float32-cast betas (Keras `ops.power`), while
/// `1 − β1` and `1 − β2` are computed in double precision and then cast, as Python does before
/// the multiply. ε defaults to 1e-7 (Keras), and is added *outside* the square root. Weight
/// decay (`w = w − w·wd·lr`) runs before the rule, see `Optimizer`.
public struct Adam: Optimizer {
  public var beta1: Double
  public var beta2: Double
  public var epsilon: Double
  public var state = OptimizerState()

  public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7) {
    precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam: betas must be in [0, 1)")
    precondition(epsilon > 0, "Adam: epsilon must be positive")
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
  }

  public var config: OptimizerConfig { .adam(beta1: beta1, beta2: beta2, epsilon: epsilon) }

  /// The bias-corrected step size for update number `iterations + 1`.
  public static func alpha(learningRate lr: Float, beta1: Double, beta2: Double, iterations: Int) -> Float {
    let t = Float(iterations + 1)
    let b1t = powf(Float(beta1), t)
    let b2t = powf(Float(beta2), t)
    return lr * (1 - b2t).squareRoot() / (1 - b1t)
  }

  public mutating func apply(
    gradients: Parameters, to parameters: inout Parameters, keys: [String],
    learningRate: Float, weightDecay: Double
  ) {
    let lr = learningRate
    let alpha = Self.alpha(learningRate: lr, beta1: beta1, beta2: beta2, iterations: state.iterations)
    let oneMinusB1 = Float(1 - beta1)
    let oneMinusB2 = Float(1 - beta2)
    let eps = Float(epsilon)
    for key in keys {
      guard let grad = gradients.tensors[key] else { continue }
      checkGradient(key, parameters.tensors[key], grad)
      var m = state.takeSlot("m", key, shape: grad.shape)
      var v = state.takeSlot("v", key, shape: grad.shape)
      grad.scalars.withUnsafeBufferPointer { g in
        parameters.tensors[key]!.scalars.withUnsafeMutableBufferPointer { w in
          applyWeightDecay(w, weightDecay: weightDecay, learningRate: lr)
          m.scalars.withUnsafeMutableBufferPointer { m in
            v.scalars.withUnsafeMutableBufferPointer { v in
              for i in 0..<w.count {
                let gi = g[i]
                m[i] += (gi - m[i]) * oneMinusB1
                v[i] += (gi * gi - v[i]) * oneMinusB2
                w[i] -= (m[i] * alpha) / (v[i].squareRoot() + eps)
              }
            }
          }
        }
      }
      state.slots["m"]!.tensors[key] = m
      state.slots["v"]!.tensors[key] = v
    }
    state.iterations += 1
  }
}
