import AdaTensor
import Foundation

/// Elementwise (and softmax, last-axis) activation functions with their derivatives.
/// Used as a standalone layer (`LayerSpec.activation`) and fused into Conv/Dense.
///
/// Semantics follow Keras 3: `hardSigmoid(x) = relu6(x + 3) / 6`, `gelu` is the exact (erf) form,
/// `swish` is `x · sigmoid(x)` (Keras also calls it `silu`).
public enum Activation: String, Codable, Hashable, Sendable, CaseIterable {
  case linear, relu, relu6, sigmoid, tanh, softmax, swish
  case hardSigmoid = "hard-sigmoid"
  case hardSwish = "hard-swish"
  case gelu, elu, softplus

  /// Whether backward needs the pre-activation input (otherwise the output suffices).
  public var backwardNeedsInput: Bool {
    switch self {
    case .linear, .relu, .relu6, .sigmoid, .tanh, .softmax: false
    default: true
    }
  }

  /// `y = f(x)`, with `x` of any shape; softmax works on the last axis.
  public func apply(_ x: Tensor) -> Tensor {
    if self == .linear { return x }
    var y = x
    applyInPlace(&y)
    return y
  }

  public func applyInPlace(_ t: inout Tensor) {
    switch self {
    case .linear: return
    case .softmax:
      let k = t.shape.last ?? 1
      t.scalars.withUnsafeMutableBufferPointer { Activation.softmaxRows($0, rowLength: k) }
    default:
      let f = scalarFunction
      t.scalars.withUnsafeMutableBufferPointer { p in
        for i in 0..<p.count { p[i] = f(p[i]) }
      }
    }
  }

  /// `dx = dy · f'(x)`. `x` is the pre-activation (may be empty when `!backwardNeedsInput`),
  /// `y` the output.
  public func backward(dy: Tensor, x: Tensor?, y: Tensor) -> Tensor {
    var dx = dy
    dx.scalars.withUnsafeMutableBufferPointer { g in
      y.scalars.withUnsafeBufferPointer { yp in
        switch self {
        case .linear: return
        case .relu: for i in 0..<g.count where yp[i] <= 0 { g[i] = 0 }
        case .relu6: for i in 0..<g.count where yp[i] <= 0 || yp[i] >= 6 { g[i] = 0 }
        case .sigmoid: for i in 0..<g.count { g[i] *= yp[i] * (1 - yp[i]) }
        case .tanh: for i in 0..<g.count { g[i] *= 1 - yp[i] * yp[i] }
        case .softmax:
          let k = y.shape.last ?? 1
          for r in stride(from: 0, to: g.count, by: k) {
            var dot: Float = 0
            for c in 0..<k { dot += g[r + c] * yp[r + c] }
            for c in 0..<k { g[r + c] = yp[r + c] * (g[r + c] - dot) }
          }
        default:
          precondition(x != nil, "Activation.backward: \(self) needs the pre-activation input")
          let d = derivative
          x!.scalars.withUnsafeBufferPointer { xp in
            for i in 0..<g.count { g[i] *= d(xp[i]) }
          }
        }
      }
    }
    return dx
  }

  /// The scalar function, for elementwise activations (not softmax).
  public var scalarFunction: @Sendable (Float) -> Float {
    switch self {
    case .linear: { $0 }
    case .relu: { max($0, 0) }
    case .relu6: { min(max($0, 0), 6) }
    case .sigmoid: { Activation.sigmoid($0) }
    case .tanh: { Foundation.tanh($0) }
    case .swish: { $0 * Activation.sigmoid($0) }
    case .hardSigmoid: { min(max($0 + 3, 0), 6) / 6 }
    case .hardSwish: { $0 * min(max($0 + 3, 0), 6) / 6 }
    case .gelu: { 0.5 * $0 * (1 + erf($0 / Float(2).squareRoot())) }
    case .elu: { $0 > 0 ? $0 : expm1($0) }
    case .softplus: { Activation.softplus($0) }
    case .softmax: { _ in preconditionFailure("softmax is not elementwise") }
    }
  }

  /// f'(x) for elementwise activations.
  public var derivative: @Sendable (Float) -> Float {
    switch self {
    case .linear: { _ in 1 }
    case .relu: { $0 > 0 ? 1 : 0 }
    case .relu6: { $0 > 0 && $0 < 6 ? 1 : 0 }
    case .sigmoid:
      {
        let s = Activation.sigmoid($0); return s * (1 - s)
      }
    case .tanh:
      {
        let t = Foundation.tanh($0); return 1 - t * t
      }
    case .swish:
      {
        let s = Activation.sigmoid($0); return s * (1 + $0 * (1 - s))
      }
    case .hardSigmoid: { $0 > -3 && $0 < 3 ? 1 / 6 : 0 }
    case .hardSwish: { $0 <= -3 ? 0 : ($0 >= 3 ? 1 : (2 * $0 + 3) / 6) }
    case .gelu:
      {
        let cdf = 0.5 * (1 + erf($0 / Float(2).squareRoot()))
        let pdf = exp(-0.5 * $0 * $0) / Float(2 * Float.pi).squareRoot()
        return cdf + $0 * pdf
      }
    case .elu: { $0 > 0 ? 1 : exp($0) }
    case .softplus: { Activation.sigmoid($0) }
    case .softmax: { _ in preconditionFailure("softmax is not elementwise") }
    }
  }

  @inlinable static func sigmoid(_ x: Float) -> Float {
    x >= 0
      ? 1 / (1 + exp(-x))
      : {
        let e = exp(x); return e / (1 + e)
      }()
  }

  @inlinable static func softplus(_ x: Float) -> Float {
    x > 20 ? x : log1p(exp(x))
  }

  /// Numerically stable softmax of each contiguous row of `rowLength` elements, in place.
  public static func softmaxRows(_ p: UnsafeMutableBufferPointer<Float>, rowLength k: Int) {
    for r in stride(from: 0, to: p.count, by: k) {
      var m = -Float.infinity
      for c in 0..<k { m = max(m, p[r + c]) }
      var s: Float = 0
      for c in 0..<k {
        let e = exp(p[r + c] - m)
        p[r + c] = e
        s += e
      }
      let inv = 1 / s
      for c in 0..<k { p[r + c] *= inv }
    }
  }
}
