import AdaTensor

/// Keras `Concatenate`: joins n ≥ 1 inputs along one axis of the per-example shape.
/// All other axes must agree. No parameters.
///
/// `spec.axis` indexes the per-example shape (batch excluded): for `[H, W, C]` examples,
/// `0` or `-3` is height, `2` or `-1` is channels. (Keras counts the batch: its `axis=3` is our
/// `2`; the Keras reader converts.)
///
///     // [N, 8, 8, 16] ‖ [N, 8, 8, 48] along -1 → [N, 8, 8, 64]
///
/// In row-major order a tensor is `outer` blocks (the axes before `axis`, batch included), each
/// holding `size(axis) · inner` contiguous scalars; concatenation interleaves those blocks and
/// backward cuts them apart again.
public struct ConcatenateLayer: Layer {
  public var spec: ConcatenateSpec

  public init(spec: ConcatenateSpec) { self.spec = spec }

  public struct Cache: Sendable {
    /// Full shapes of the inputs, `[N, …]` each.
    var inputShapes: [[Int]]
    var inputsNeedGradient: Bool
  }

  // MARK: Shape contract

  /// `spec.axis` resolved to `0..<rank` for a per-example rank, or an error.
  public func resolvedAxis(rank: Int) throws(AdaError) -> Int {
    let a = spec.axis < 0 ? spec.axis + rank : spec.axis
    guard a >= 0 && a < rank else {
      throw AdaError(
        .invalidValue,
        "concatenate axis \(spec.axis) is out of range for per-example rank \(rank) "
          + "(valid: \(-rank)...\(rank - 1))")
    }
    return a
  }

  public func outputShape(for inputs: [[Int]]) throws(AdaError) -> [Int] {
    guard let first = inputs.first else {
      throw AdaError(.badShape, "concatenate needs at least one input, found none")
    }
    let axis = try resolvedAxis(rank: first.count)
    var out = first
    for (k, s) in inputs.enumerated().dropFirst() {
      var a = s
      var b = first
      if a.count == b.count {
        a[axis] = 0
        b[axis] = 0
      }
      guard a == b else {
        throw AdaError(
          .badShape,
          "concatenate along axis \(spec.axis) needs the other axes to match: input 0 is "
            + "\(first), input \(k) is \(s)")
      }
      out[axis] += s[axis]
    }
    return out
  }

  public func parameters(for inputs: [[Int]]) -> [ParameterSpec] { [] }

  // MARK: Forward

  /// - Parameter inputs: n tensors `[N, …]` agreeing on every axis but the concatenation axis.
  /// - Returns: `[N, …]` with the axis sizes summed.
  public func forward(
    _ inputs: [Tensor], params: inout [Tensor], context: inout ForwardContext
  ) -> (Tensor, Cache) {
    let shapes = inputs.map { Array($0.shape.dropFirst()) }
    let outInner: [Int]
    let axis: Int
    do {
      outInner = try outputShape(for: shapes)
      axis = try resolvedAxis(rank: shapes[0].count)
    } catch {
      preconditionFailure("ConcatenateLayer: \(error) (shapes are checked by Graph.inferShapes)")
    }
    let n = inputs[0].shape[0]
    precondition(inputs.allSatisfy { $0.shape[0] == n }, "ConcatenateLayer: batch sizes differ")
    let outShape = [n] + outInner
    // Legend: outer = product of the axes before `axis` (batch included); inner = product after.
    let outer = outShape[...axis].elementCount
    let inner = outShape[(axis + 2)...].elementCount
    let outBlock = outShape[axis + 1] * inner
    var y = Tensor(shape: outShape)
    y.scalars.withUnsafeMutableBufferPointer { out in
      var offset = 0
      for x in inputs {
        let block = x.shape[axis + 1] * inner
        x.scalars.withUnsafeBufferPointer { src in
          for o in 0..<outer {
            let to = o * outBlock + offset
            let from = o * block
            for i in 0..<block { out[to + i] = src[from + i] }
          }
        }
        offset += block
      }
    }
    let cache = Cache(
      inputShapes: inputs.map(\.shape),
      inputsNeedGradient: context.needsBackward && context.inputsNeedGradient)
    return (y, cache)
  }

  // MARK: Backward

  /// `dx_i` is input i's slab of `dy` along the axis.
  public func backward(
    _ gradOutput: Tensor, cache: Cache, params: [Tensor], paramGrads: inout [Tensor]
  ) -> [Tensor] {
    guard cache.inputsNeedGradient else {
      return [Tensor](repeating: Tensor(shape: []), count: cache.inputShapes.count)
    }
    let rank = gradOutput.rank
    let axis = (spec.axis < 0 ? spec.axis + rank - 1 : spec.axis) + 1  // in full-tensor axes
    let outer = gradOutput.shape[..<axis].elementCount
    let inner = gradOutput.shape[(axis + 1)...].elementCount
    let outBlock = gradOutput.shape[axis] * inner
    var offset = 0
    var grads: [Tensor] = []
    for shape in cache.inputShapes {
      let block = shape[axis] * inner
      var dx = Tensor(shape: shape)
      dx.scalars.withUnsafeMutableBufferPointer { out in
        gradOutput.scalars.withUnsafeBufferPointer { g in
          for o in 0..<outer {
            let from = o * outBlock + offset
            let to = o * block
            for i in 0..<block { out[to + i] = g[from + i] }
          }
        }
      }
      grads.append(dx)
      offset += block
    }
    precondition(offset == outBlock, "ConcatenateLayer.backward: gradient shape does not match")
    return grads
  }
}
