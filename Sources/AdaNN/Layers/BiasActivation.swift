import AdaTensor

/// The epilogue shared by Conv2D, Dense, DepthwiseConv2D and SeparableConv2D: add a bias along
/// the last (channel) axis and apply the fused activation, in one pass over the output; and its
/// backward, which turns `dL/dy` into `dL/dz` (z = pre-activation) and sums the bias gradient.
///
/// ReLU (the common case) and linear are handled inline; other activations use
/// `Activation.scalarFunction` / `Activation.softmaxRows` on the same rows. Rows are split across
/// workers when the tensor is large (see `Parallel`).
enum BiasActivation {
  /// In place: `y ← f(y + bias)`, with `y` `[..., C]` and `bias` `[C]`.
  ///
  /// - Returns: the pre-activation `y + bias` when `keepPreActivation` and the activation's
  ///   backward needs it (`Activation.backwardNeedsInput`), else nil.
  static func forward(
    _ y: inout Tensor, bias: Tensor?, activation: Activation, keepPreActivation: Bool
  ) -> Tensor? {
    let channels = y.shape.last ?? 1
    if let bias {
      precondition(bias.shape == [channels], "bias \(bias.shape) does not match \(channels) channels")
    }
    let keep = keepPreActivation && activation.backwardNeedsInput
    if keep {
      apply(&y, channels: channels, bias: bias, activation: .linear)
      let z = y
      apply(&y, channels: channels, bias: nil, activation: activation)
      return z
    }
    apply(&y, channels: channels, bias: bias, activation: activation)
    return nil
  }

  /// One parallel pass of `y ← f(y + bias)` over rows of `channels` elements.
  private static func apply(_ y: inout Tensor, channels: Int, bias: Tensor?, activation: Activation) {
    if bias == nil && activation == .linear { return }
    let total = y.count
    let rows = channels == 0 ? 0 : total / channels
    let f = activation == .softmax ? nil : activation.scalarFunction
    let noBias = [Float]()
    (bias?.scalars ?? noBias).withUnsafeBufferPointer { bp in
      let b = bias == nil ? nil : bp.baseAddress
      y.scalars.withUnsafeMutableBufferPointer { yb in
        Parallel.forEachChunk(of: rows, work: total) { rowRange in
          let p = yb.baseAddress! + rowRange.lowerBound * channels
          let count = rowRange.count * channels
          if let b {
            for r in 0..<rowRange.count {
              let row = p + r * channels
              for c in 0..<channels { row[c] += b[c] }
            }
          }
          switch activation {
          case .linear: break
          case .relu: ReLULayer.rectify(p, p, count: count)
          case .softmax:
            Activation.softmaxRows(UnsafeMutableBufferPointer(start: p, count: count), rowLength: channels)
          default:
            let f = f!
            for t in 0..<count { p[t] = f(p[t]) }
          }
        }
      }
    }
  }

  /// `dL/dz` from `dL/dy`: `preActivation` is what `forward` returned, `output` the layer output.
  static func backward(
    _ dy: Tensor, preActivation: Tensor?, output: Tensor, activation: Activation
  ) -> Tensor {
    switch activation {
    case .linear:
      return dy
    case .relu:
      precondition(dy.shape == output.shape, "activation backward: dy \(dy.shape) vs y \(output.shape)")
      // dz = y > 0 ? dy : 0, written straight into a new buffer.
      let dz = output.scalars.withUnsafeBufferPointer { y in
        dy.scalars.withUnsafeBufferPointer { g in
          ReLULayer.map(count: g.count) { range, out in
            let start = range.lowerBound
            ReLULayer.gate(
              g.baseAddress! + start, by: y.baseAddress! + start, out + start, count: range.count)
          }
        }
      }
      return Tensor(shape: dy.shape, scalars: dz)
    default:
      return activation.backward(dy: dy, x: preActivation, y: output)
    }
  }

  /// `biasGradient[c] += Σ_rows dz[row, c]` for `dz` `[..., C]` (blocked and split across
  /// workers by `ColumnSums`, bit-identical for any worker count).
  static func accumulateBiasGradient(_ dz: Tensor, into biasGradient: inout Tensor) {
    let channels = biasGradient.count
    precondition(dz.shape.last == channels, "bias gradient: dz \(dz.shape) vs bias [\(channels)]")
    guard dz.count > 0 else { return }
    let sums = dz.scalars.withUnsafeBufferPointer {
      ColumnSums.sums($0.baseAddress!, rows: dz.count / channels, columns: channels)
    }
    for c in 0..<channels { biasGradient.scalars[c] += Float(sums[c]) }
  }
}
