import AdaNN
import AdaTensor

/// Stochastic gradient descent with optional (Nesterov) momentum, as Keras 3 implements it in
/// `keras/src/optimizers/sgd.py` (`SGD.update_step`), all arithmetic in Float32:
///
///     momentum == 0:  w = w − g·lr
///     momentum  > 0:  m = m·momentum − g·lr
///                     w = w + m                          (nesterov == false)
///                     w = w + (m·momentum − g·lr)        (nesterov == true, with the new m)
///
/// Keras only creates the `momentum` slot when `momentum != 0`; so do we. Weight decay
/// (`w = w − w·wd·lr`) runs before the rule, see `Optimizer`.
public struct SGD: Optimizer {
  public var momentum: Double
  public var nesterov: Bool
  public var state = OptimizerState()

  public init(momentum: Double = 0, nesterov: Bool = false) {
    precondition(momentum >= 0 && momentum <= 1, "SGD: momentum must be in [0, 1], got \(momentum)")
    self.momentum = momentum
    self.nesterov = nesterov
  }

  public var config: OptimizerConfig { .sgd(momentum: momentum, nesterov: nesterov) }

  public mutating func apply(
    gradients: Parameters, to parameters: inout Parameters, keys: [String],
    learningRate: Float, weightDecay: Double
  ) {
    let lr = learningRate
    let mom = Float(momentum)  // Keras: ops.cast(self.momentum, variable.dtype)
    let useMomentum = momentum != 0
    let nesterov = nesterov
    for key in keys {
      guard let grad = gradients.tensors[key] else { continue }
      checkGradient(key, parameters.tensors[key], grad)
      var m = useMomentum ? state.takeSlot("momentum", key, shape: grad.shape) : Tensor(shape: [])
      grad.scalars.withUnsafeBufferPointer { g in
        parameters.tensors[key]!.scalars.withUnsafeMutableBufferPointer { w in
          applyWeightDecay(w, weightDecay: weightDecay, learningRate: lr)
          if !useMomentum {
            for i in 0..<w.count { w[i] -= g[i] * lr }
            return
          }
          m.scalars.withUnsafeMutableBufferPointer { m in
            if nesterov {
              for i in 0..<w.count {
                m[i] = m[i] * mom - g[i] * lr
                w[i] += m[i] * mom - g[i] * lr
              }
            } else {
              for i in 0..<w.count {
                m[i] = m[i] * mom - g[i] * lr
                w[i] += m[i]
              }
            }
          }
        }
      }
      if useMomentum { state.slots["momentum"]!.tensors[key] = m }
    }
    state.iterations += 1
  }
}
