import AdaNN
import AdaTensor

/// The weights Keras stores for a layer, in Keras's order (trainable then non-trainable, which is
/// both the legacy `.h5` `weight_names` order and the `.weights.h5` `vars/<i>` order), with the
/// adascale parameter each one becomes.
///
/// | LayerSpec | Keras weights (in order) | adascale names |
/// |---|---|---|
/// | conv2D, dense | `kernel`, `bias`? | `kernel`, `bias` |
/// | depthwiseConv2D | `kernel` (Keras 3) / `depthwise_kernel` (Keras 2), `bias`? | `kernel`, `bias` |
/// | separableConv2D | `depthwise_kernel`, `pointwise_kernel`, `bias`? | `depthwiseKernel`, `pointwiseKernel`, `bias` |
/// | batchNorm | `gamma`?, `beta`?, `moving_mean`, `moving_variance` | `gamma`, `beta`, `movingMean`, `movingVariance` |
/// | normalization | `mean`, `variance`, `count` (int64 scalar; read and dropped, written as 0) | `mean`, `variance` |
struct KerasWeight: Equatable {
  /// adascale's parameter name (`Parameters` key suffix).
  var internalName: String
  /// The name Keras 3 writes (last component of the weight path).
  var kerasName: String
  /// Other names older Keras versions used for the same weight.
  var aliases: [String] = []
  /// Dimensions known from the layer config alone; nil entries depend on the input.
  var knownShape: [Int?]
  /// A weight Keras keeps but adascale has no use for (Normalization's sample `count`): read and
  /// checked, not kept; written back as an int64 scalar 0.
  var discarded = false

  /// Whether Keras makes the variable trainable (moving statistics and Normalization's are not).
  var trainable: Bool {
    !["movingMean", "movingVariance", "mean", "variance", "count"].contains(internalName)
  }

  func matches(_ storedName: String) -> Bool {
    storedName == kerasName || aliases.contains(storedName)
  }
}

enum KerasWeightNames {
  /// Keras's weights for `spec`, in Keras order.
  static func weights(for spec: LayerSpec) -> [KerasWeight] {
    switch spec {
    case .conv2D(let s):
      return [
        KerasWeight(
          internalName: "kernel", kerasName: "kernel", knownShape: [s.kernel.h, s.kernel.w, nil, s.filters])
      ]
        + (s.useBias ? [KerasWeight(internalName: "bias", kerasName: "bias", knownShape: [s.filters])] : [])
    case .dense(let s):
      return [KerasWeight(internalName: "kernel", kerasName: "kernel", knownShape: [nil, s.units])]
        + (s.useBias ? [KerasWeight(internalName: "bias", kerasName: "bias", knownShape: [s.units])] : [])
    case .depthwiseConv2D(let s):
      return [
        KerasWeight(
          internalName: "kernel", kerasName: "kernel", aliases: ["depthwise_kernel"],
          knownShape: [s.kernel.h, s.kernel.w, nil, s.depthMultiplier])
      ] + (s.useBias ? [KerasWeight(internalName: "bias", kerasName: "bias", knownShape: [nil])] : [])
    case .separableConv2D(let s):
      return [
        KerasWeight(
          internalName: "depthwiseKernel", kerasName: "depthwise_kernel",
          knownShape: [s.kernel.h, s.kernel.w, nil, s.depthMultiplier]),
        KerasWeight(
          internalName: "pointwiseKernel", kerasName: "pointwise_kernel", knownShape: [1, 1, nil, s.filters]),
      ] + (s.useBias ? [KerasWeight(internalName: "bias", kerasName: "bias", knownShape: [s.filters])] : [])
    case .batchNorm(let s):
      return (s.scale ? [KerasWeight(internalName: "gamma", kerasName: "gamma", knownShape: [nil])] : [])
        + (s.center ? [KerasWeight(internalName: "beta", kerasName: "beta", knownShape: [nil])] : [])
        + [
          KerasWeight(internalName: "movingMean", kerasName: "moving_mean", knownShape: [nil]),
          KerasWeight(internalName: "movingVariance", kerasName: "moving_variance", knownShape: [nil]),
        ]
    case .normalization:
      return [
        KerasWeight(internalName: "mean", kerasName: "mean", knownShape: [nil]),
        KerasWeight(internalName: "variance", kerasName: "variance", knownShape: [nil]),
        KerasWeight(internalName: "count", kerasName: "count", knownShape: [], discarded: true),
      ]
    default:
      return []
    }
  }

  /// The last path component of a stored weight name without Keras 2's `:0` suffix:
  /// `"model/dense/kernel"` → `"kernel"`, `"dense_1/kernel:0"` → `"kernel"`.
  static func baseName(_ stored: String) -> String {
    var last = stored.split(separator: "/").last.map(String.init) ?? stored
    if let colon = last.lastIndex(of: ":"), last[last.index(after: colon)...].allSatisfy(\.isNumber) {
      last = String(last[..<colon])
    }
    return last
  }

  /// Whether `shape` agrees with the dimensions known from the config.
  static func agrees(_ shape: [Int], with known: [Int?]) -> Bool {
    shape.count == known.count && zip(shape, known).allSatisfy { $1 == nil || $0 == $1 }
  }

  static func describe(_ known: [Int?]) -> String {
    "[" + known.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
  }
}
