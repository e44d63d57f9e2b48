/// A tensor flowing through the ONNX graph being built: its ONNX name, its shape as adascale
/// knows it (Keras layout, batch excluded) and whether the graph holds it channels-first.
///
/// Only rank-4 tensors (`shape` `[H, W, C]`) have a layout; `channelsFirst` is false for the
/// others. `onnxShape` is the shape the ONNX tensor really has, batch excluded: `[C, H, W]`
/// when channels-first.
struct ONNXValue: Hashable, Sendable {
  var name: String
  /// Per-example shape in Keras layout, e.g. `[28, 28, 1]`.
  var shape: [Int]
  var channelsFirst: Bool

  init(name: String, shape: [Int], channelsFirst: Bool) {
    self.name = name
    self.shape = shape
    self.channelsFirst = channelsFirst && shape.count == 3
  }

  var isImage: Bool { shape.count == 3 }

  var onnxShape: [Int] { channelsFirst ? [shape[2], shape[0], shape[1]] : shape }

  /// Channels (the Keras last axis).
  var channels: Int { shape.last ?? 1 }

  /// The ONNX axis (batch included) of Keras's batch-included axis `k` (1…rank).
  func onnxAxis(keras k: Int) -> Int {
    guard channelsFirst else { return k }
    return [0, 2, 3, 1][k]
  }

  /// Shape for a per-channel constant that broadcasts along this tensor's channel axis:
  /// `[C, 1, 1]` channels-first, `[C]` otherwise.
  var channelConstantShape: [Int] { channelsFirst ? [channels, 1, 1] : [channels] }
}
