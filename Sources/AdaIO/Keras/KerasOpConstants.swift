import AdaNN
import AdaTensor

/// Keras 3 operations on a tensor and a number, which functional configs record as layer
/// entries (module `keras.src.ops.numpy`, or no module in legacy `.h5` configs) whose call
/// arguments hold the constant: MobileNetV3's `hard_sigmoid(x) = ReLU(6)(x + 3) · (1/6)` is
///
///     {"class_name": "Add", "name": "add", "inbound_nodes": [{"args": [<x>, 3.0], …}]}
///     {"class_name": "Multiply", "name": "multiply", "inbound_nodes": [{"args": [<r>, 0.1666…], …}]}
///
/// Each becomes a `.rescaling` (`x + c`: scale 1, offset c; `x · c`: scale c; `x − c`, `c − x`,
/// `x / c` likewise). The same classes with tensors only are the `Add`/`Multiply` layers (or ops),
/// decoded as usual; `c / x` and other ops are unsupported.
enum KerasOpConstants {
  static let classes: Set<String> = ["Add", "Subtract", "Multiply", "Divide", "TrueDivide"]

  /// The rescaling a constant op computes, or nil when the entry is not one (no numeric argument).
  static func spec(for c: KerasLayerConfig, call: JSONValue?) throws(AdaError) -> LayerSpec? {
    guard classes.contains(c.className), let args = call?["args"]?.array else { return nil }
    let constants = args.enumerated().compactMap { i, a in a.double.map { (i, Float($0)) } }
    guard let (position, k) = constants.first else { return nil }
    let tensors = args.filter { $0["class_name"]?.string == "__keras_tensor__" }
    guard constants.count == 1, tensors.count == 1, args.count == 2, k.isFinite else {
      throw c.error(
        .unsupported,
        "operation '\(c.name)' (\(c.className)) has arguments \(args.map(\.text)); adascale supports "
          + "one tensor and one number")
    }
    let first = position == 0
    switch c.className {
    case "Add": return .rescaling(RescalingSpec(scale: 1, offset: k))
    case "Multiply": return .rescaling(RescalingSpec(scale: k))
    case "Subtract":
      return .rescaling(first ? RescalingSpec(scale: -1, offset: k) : RescalingSpec(scale: 1, offset: -k))
    default:
      guard !first, k != 0 else {
        throw c.error(
          .unsupported, "operation '\(c.name)' (\(c.className)) divides by a tensor or by zero")
      }
      return .rescaling(RescalingSpec(scale: 1 / k))
    }
  }
}
