import Foundation

/// A dense Float32 tensor in row-major order. Image tensors are NHWC.
///
/// Storage is a Swift `Array`, so copies are cheap and writes are copy-on-write.
/// Hot loops use `withUnsafeBufferPointer` / `withUnsafeMutableBufferPointer`.
///
///     var t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
///     t[1, 2] == 6
public struct Tensor: Sendable, Equatable {
  /// Dimensions, outermost first. A scalar has shape `[]`.
  public private(set) var shape: [Int]
  /// Elements in row-major order; `scalars.count == shape.product`.
  public var scalars: [Float]

  public init(shape: [Int], scalars: [Float]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
    precondition(
      shape.elementCount == scalars.count,
      "Tensor: shape \(shape) needs \(shape.elementCount) scalars, got \(scalars.count)")
    self.shape = shape
    self.scalars = scalars
  }

  /// A tensor of the given shape filled with `value`.
  public init(shape: [Int], repeating value: Float = 0) {
    self.init(shape: shape, scalars: [Float](repeating: value, count: shape.elementCount))
  }

  public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape) }

  public var count: Int { scalars.count }
  public var rank: Int { shape.count }

  /// The same scalars viewed with another shape of equal element count.
  public func reshaped(_ newShape: [Int]) -> Tensor {
    Tensor(shape: newShape, scalars: scalars)
  }

  /// Reinterprets in place (no copy).
  public mutating func reshape(_ newShape: [Int]) {
    precondition(
      newShape.elementCount == scalars.count,
      "Tensor.reshape: \(shape) → \(newShape) changes the element count")
    shape = newShape
  }

  /// Row-major flat offset of a multi-index.
  @inlinable
  public func offset(_ index: [Int]) -> Int {
    precondition(index.count == shape.count, "Tensor: index rank \(index.count) ≠ rank \(rank)")
    var o = 0
    for (i, d) in zip(index, shape) {
      precondition(i >= 0 && i < d, "Tensor: index \(index) out of bounds for \(shape)")
      o = o * d + i
    }
    return o
  }

  public subscript(_ index: Int...) -> Float {
    get { scalars[offset(index)] }
    set { scalars[offset(index)] = newValue }
  }

  /// Batch slice `[start, end)` along the first dimension.
  public func slice(batch range: Range<Int>) -> Tensor {
    precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0])
    let inner = shape.dropFirst().elementCount
    var newShape = shape
    newShape[0] = range.count
    return Tensor(
      shape: newShape,
      scalars: Array(scalars[(range.lowerBound * inner)..<(range.upperBound * inner)]))
  }

  /// Concatenates tensors along the first (batch) dimension.
  public static func concatenate(batches parts: [Tensor]) -> Tensor {
    precondition(!parts.isEmpty, "Tensor.concatenate: no parts")
    let inner = Array(parts[0].shape.dropFirst())
    var scalars: [Float] = []
    scalars.reserveCapacity(parts.reduce(0) { $0 + $1.count })
    var n = 0
    for p in parts {
      precondition(Array(p.shape.dropFirst()) == inner, "Tensor.concatenate: inner shapes differ")
      scalars += p.scalars
      n += p.shape[0]
    }
    return Tensor(shape: [n] + inner, scalars: scalars)
  }

  /// True when any element is NaN or infinite.
  public var hasNonFinite: Bool { scalars.contains { !$0.isFinite } }
}

extension Array where Element == Int {
  /// Product of the dimensions; 1 for an empty shape.
  @inlinable public var elementCount: Int { reduce(1, *) }
}

extension ArraySlice where Element == Int {
  @inlinable public var elementCount: Int { reduce(1, *) }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    let head = scalars.prefix(8).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
    return "Tensor\(shape)[\(head)\(count > 8 ? ", …" : "")]"
  }
}
