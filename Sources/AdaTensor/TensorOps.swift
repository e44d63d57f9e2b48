import Foundation

/// Elementwise arithmetic and reductions used by layers, losses and optimizers.
/// Kept deliberately small: anything hot has its own kernel.
extension Tensor {
  /// `self += other` elementwise; shapes must match.
  public mutating func add(_ other: Tensor) {
    precondition(shape == other.shape, "Tensor.add: \(shape) vs \(other.shape)")
    scalars.withUnsafeMutableBufferPointer { a in
      other.scalars.withUnsafeBufferPointer { b in
        for i in 0..<a.count { a[i] += b[i] }
      }
    }
  }

  /// `self += alpha * other` elementwise.
  public mutating func add(_ other: Tensor, scaledBy alpha: Float) {
    precondition(shape == other.shape, "Tensor.add: \(shape) vs \(other.shape)")
    scalars.withUnsafeMutableBufferPointer { a in
      other.scalars.withUnsafeBufferPointer { b in
        for i in 0..<a.count { a[i] += alpha * b[i] }
      }
    }
  }

  public mutating func scale(by alpha: Float) {
    scalars.withUnsafeMutableBufferPointer { a in
      for i in 0..<a.count { a[i] *= alpha }
    }
  }

  public mutating func fill(_ value: Float) {
    scalars.withUnsafeMutableBufferPointer { a in
      for i in 0..<a.count { a[i] = value }
    }
  }

  public func map(_ f: (Float) -> Float) -> Tensor {
    Tensor(shape: shape, scalars: scalars.map(f))
  }

  public var sum: Float { scalars.reduce(0, +) }
  public var maxAbs: Float { scalars.reduce(0) { Swift.max($0, abs($1)) } }

  /// Index of the largest element of each row of a `[N, K]` tensor.
  public func argmaxRows() -> [Int] {
    precondition(rank == 2, "argmaxRows: expects [N, K], got \(shape)")
    let (n, k) = (shape[0], shape[1])
    var out = [Int](repeating: 0, count: n)
    scalars.withUnsafeBufferPointer { p in
      for r in 0..<n {
        var best = 0
        var bestValue = p[r * k]
        for c in 1..<k where p[r * k + c] > bestValue {
          best = c
          bestValue = p[r * k + c]
        }
        out[r] = best
      }
    }
    return out
  }
}
