import AdaNN
import AdaTensor

/// Layers that move or combine tensors: flatten, reshape, zero padding, merges.
extension ONNXGraphBuilder {
  /// Keras flattens `[H, W, C]` row-major, so the tensor goes back to Keras layout first.
  mutating func flatten(_ name: String, _ x: ONNXValue, shape: [Int]) -> ONNXValue {
    let x = channelsLast(x)
    let y = op("Flatten", [x.name], prefix: name, attributes: [ONNXProto.attribute("axis", int: 1)])
    return ONNXValue(name: y, shape: shape, channelsFirst: false)
  }

  /// `Reshape` to `[-1] + shape` (the inferred target, batch kept dynamic), in Keras layout.
  mutating func reshape(_ name: String, _ x: ONNXValue, shape: [Int]) -> ONNXValue {
    let x = channelsLast(x)
    let target = int64Constant("\(name)/shape", [-1] + shape.map(Int64.init))
    let y = op("Reshape", [x.name, target], prefix: name)
    return ONNXValue(name: y, shape: shape, channelsFirst: false)
  }

  /// `Pad` on H and W, channels-first, with the pad value 0 — written as −0.0 unless every
  /// reader of the padding is a convolution (`zeroPaddingFeedsOnlyConvolutions`).
  ///
  /// Why −0.0: onnxruntime 1.31's `PadFusion` folds a `Pad` whose value is all-zero bytes into
  /// a following `MaxPool`'s (or `AveragePool`'s) `pads`; but pooling pads are never taken
  /// (−∞ for max, not counted for average), so the result changes wherever a window's real
  /// values are all negative (found by `make interop` on `conv_ops`). −0.0 equals 0 in every
  /// operation here but its bytes are not all zero, so the fusion is not made. Into a `Conv`
  /// the fusion is exact (and saves a pass), so there the value stays +0. (The opset-18 `axes`
  /// input, which also blocks the fusion, makes onnxruntime's transpose optimiser emit a
  /// `Gather` that fails at run time: `zero_padding_then_max_pool` in the tests.)
  mutating func zeroPadding2D(
    _ name: String, _ s: ZeroPadding2DSpec, _ x: ONNXValue, shape: [Int]
  ) -> ONNXValue {
    let x = channelsFirst(x)
    let pads = int64Constant(
      "\(name)/pads", [0, 0, s.top, s.left, 0, 0, s.bottom, s.right].map(Int64.init))
    let zero = scalar("\(name)/zero", zeroPaddingFeedsOnlyConvolutions.contains(name) ? 0 : -0.0)
    let y = op("Pad", [x.name, pads, zero], prefix: name)
    return ONNXValue(name: y, shape: shape, channelsFirst: true)
  }

  /// `Add` / `Mul` folded left over the inputs, all in the layout of the first input of the
  /// highest rank. Keras aligns shapes at the last axis *after the batch*, ONNX (numpy) at the
  /// last axis of all: an input of lower rank is first reshaped to `[N, 1, …, 1] + shape`
  /// (Keras layout), so both rules pick the same elements.
  mutating func merge(_ opType: String, _ name: String, _ inputs: [ONNXValue], shape: [Int]) -> ONNXValue {
    let rank = inputs.map(\.shape.count).max()!
    let reference = inputs.first { $0.shape.count == rank }!
    let aligned = inputs.map { v -> ONNXValue in
      guard v.shape.count < rank else { return matching(v, reference) }
      let padded = [Int](repeating: 1, count: rank - v.shape.count) + v.shape
      let x = channelsLast(v)
      let target = int64Constant("\(name)/broadcast_shape", [-1] + padded.map(Int64.init))
      let y = op("Reshape", [x.name, target], prefix: name)
      return matching(ONNXValue(name: y, shape: padded, channelsFirst: false), reference)
    }
    var y = aligned[0].name
    for other in aligned.dropFirst() {
      y = op(opType, [y, other.name], prefix: name)
    }
    return ONNXValue(name: y, shape: shape, channelsFirst: reference.channelsFirst)
  }

  /// `Concat` on the Keras axis mapped to the first input's layout.
  mutating func concatenate(
    _ name: String, _ s: ConcatenateSpec, _ inputs: [ONNXValue], shape: [Int]
  ) -> ONNXValue {
    let first = inputs[0]
    let rank = first.shape.count
    let kerasAxis = s.axis < 0 ? s.axis + rank + 1 : s.axis + 1
    let axis = first.onnxAxis(keras: kerasAxis)
    let names = inputs.map { matching($0, first).name }
    let y = op("Concat", names, prefix: name, attributes: [ONNXProto.attribute("axis", int: axis)])
    return ONNXValue(name: y, shape: shape, channelsFirst: first.channelsFirst)
  }
}
