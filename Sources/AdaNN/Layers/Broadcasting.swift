import AdaTensor

/// Keras broadcasting for the elementwise merge layers (Add, Multiply).
///
/// Per-example shapes broadcast as in numpy: they are aligned at the last axis (a shorter shape
/// gets leading 1s, which is what Keras's `Merge` does by inserting axes after the batch), and on
/// every axis the sizes must be equal or one of them 1. The batch is never broadcast. The
/// squeeze-excite product of MobileNetV3 / EfficientNet is the typical case:
///
///     [N, 1, 1, C] × [N, H, W, C] → [N, H, W, C]
///
/// Kernels walk the output row by row (a row is the last axis) with per-input strides that are 0
/// on broadcast axes; reductions for backward run in that fixed order, so they are deterministic.
enum Broadcast {
  /// The broadcast per-example output shape of `inputs`; `.badShape` naming the layer kind and
  /// the first incompatible pair.
  static func shape(_ inputs: [[Int]], layer: String) throws(AdaError) -> [Int] {
    guard let first = inputs.first else {
      throw AdaError(.badShape, "\(layer) needs at least one input, found none")
    }
    let rank = inputs.map(\.count).max()!
    var out = [Int](repeating: 1, count: rank)
    for (k, s) in inputs.enumerated() {
      let padded = [Int](repeating: 1, count: rank - s.count) + s
      for a in 0..<rank where padded[a] != out[a] {
        if out[a] == 1 {
          out[a] = padded[a]
        } else if padded[a] != 1 {
          throw AdaError(
            .badShape,
            "\(layer) needs inputs whose shapes broadcast (equal sizes or 1 on each axis): "
              + "input 0 is \(first), input \(k) is \(s)")
        }
      }
    }
    return out
  }

  /// The broadcast shape of batch-included `shapes`, which must share the batch and broadcast
  /// (checked by the shape contract first, so a failure here is a programmer error).
  static func batchedShape(_ shapes: [[Int]], layer: String) -> [Int] {
    precondition(Set(shapes.map(\.first)).count == 1, "\(layer): batch sizes differ: \(shapes)")
    guard let rest = try? shape(shapes.map { Array($0.dropFirst()) }, layer: layer) else {
      preconditionFailure("\(layer): input shapes do not broadcast: \(shapes)")
    }
    return [shapes[0][0]] + rest
  }

  /// Strides of a tensor shaped `input` (batch included) when read at the indices of a tensor
  /// shaped `output` (same batch, rank ≥): row-major strides, 0 on axes `input` broadcasts.
  static func strides(of input: [Int], in output: [Int]) -> [Int] {
    precondition(input.count <= output.count, "Broadcast: input rank exceeds output rank")
    let padded = [input[0]] + [Int](repeating: 1, count: output.count - input.count) + input.dropFirst()
    var strides = [Int](repeating: 0, count: output.count)
    var step = 1
    for a in stride(from: output.count - 1, through: 0, by: -1) {
      precondition(
        padded[a] == output[a] || padded[a] == 1, "Broadcast: \(input) does not broadcast to \(output)")
      strides[a] = padded[a] == 1 && output[a] != 1 ? 0 : step
      step *= padded[a]
    }
    return strides
  }

  /// Calls `body(outOffset, inOffset, inStride, length)` for each row (last axis) of `output`,
  /// with the offset of the matching element of the strided input.
  static func forEachRow(
    output: [Int], strides: [Int], _ body: (Int, Int, Int, Int) -> Void
  ) {
    let rank = output.count
    let length = output.last ?? 1
    let rows = output.dropLast().elementCount
    guard rank > 0, length > 0 else { return }
    var index = [Int](repeating: 0, count: max(rank - 1, 0))
    var inOffset = 0
    for row in 0..<rows {
      body(row * length, inOffset, strides[rank - 1], length)
      // Odometer over the leading axes, updating the input offset incrementally.
      var a = rank - 2
      while a >= 0 {
        index[a] += 1
        inOffset += strides[a]
        if index[a] < output[a] { break }
        inOffset -= strides[a] * output[a]
        index[a] = 0
        a -= 1
      }
    }
  }

  /// `x` expanded to `output` (batch included).
  static func expand(_ x: Tensor, to output: [Int]) -> Tensor {
    if x.shape == output { return x }
    var y = Tensor(shape: output)
    let st = strides(of: x.shape, in: output)
    y.scalars.withUnsafeMutableBufferPointer { o in
      x.scalars.withUnsafeBufferPointer { i in
        forEachRow(output: output, strides: st) { oo, io, s, n in
          for k in 0..<n { o[oo + k] = i[io + k * s] }
        }
      }
    }
    return y
  }

  /// `y ⊙= x` (or `y += x` with `multiply: false`), `x` broadcast to `y`'s shape.
  static func combine(_ y: inout Tensor, with x: Tensor, multiply: Bool) {
    let st = strides(of: x.shape, in: y.shape)
    let shape = y.shape
    y.scalars.withUnsafeMutableBufferPointer { o in
      x.scalars.withUnsafeBufferPointer { i in
        forEachRow(output: shape, strides: st) { oo, io, s, n in
          if multiply {
            for k in 0..<n { o[oo + k] *= i[io + k * s] }
          } else {
            for k in 0..<n { o[oo + k] += i[io + k * s] }
          }
        }
      }
    }
  }

  /// The gradient of a broadcast input: `g` (output-shaped) summed over the axes `shape`
  /// broadcasts, reshaped to `shape`.
  static func reduce(_ g: Tensor, to shape: [Int]) -> Tensor {
    if g.shape == shape { return g }
    var dx = Tensor(shape: shape)
    let st = strides(of: shape, in: g.shape)
    dx.scalars.withUnsafeMutableBufferPointer { d in
      g.scalars.withUnsafeBufferPointer { gp in
        forEachRow(output: g.shape, strides: st) { oo, io, s, n in
          for k in 0..<n { d[io + k * s] += gp[oo + k] }
        }
      }
    }
    return dx
  }
}
