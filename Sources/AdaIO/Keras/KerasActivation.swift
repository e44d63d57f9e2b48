import AdaNN
import AdaTensor

/// Keras activation names ↔ `Activation`.
///
/// Keras 3 writes activations as strings (`"relu"`) in legacy `.h5` configs and sometimes as
/// dicts (`{"module": "builtins", "class_name": "function", "config": "relu", …}`) in `.keras`
/// configs; both are read. `swish` is saved by Keras 3 as `silu`, `hard_swish` as `hard_silu`.
enum KerasActivation {
  /// Keras name → activation, for every name adascale understands.
  static let byName: [String: Activation] = [
    "linear": .linear, "relu": .relu, "relu6": .relu6, "sigmoid": .sigmoid, "tanh": .tanh,
    "softmax": .softmax, "swish": .swish, "silu": .swish, "hard_sigmoid": .hardSigmoid,
    "hard_swish": .hardSwish, "hard_silu": .hardSwish, "gelu": .gelu, "elu": .elu,
    "softplus": .softplus,
  ]

  /// The name Keras 3 itself writes for each activation (its canonical serialisation).
  static func kerasName(_ a: Activation) -> String {
    switch a {
    case .linear: "linear"
    case .relu: "relu"
    case .relu6: "relu6"
    case .sigmoid: "sigmoid"
    case .tanh: "tanh"
    case .softmax: "softmax"
    case .swish: "silu"
    case .hardSigmoid: "hard_sigmoid"
    case .hardSwish: "hard_silu"
    case .gelu: "gelu"
    case .elu: "elu"
    case .softplus: "softplus"
    }
  }

  /// Decodes `value` (absent or null means linear). Unknown names are `.unsupported` naming the
  /// layer; Keras 2's `hard_sigmoid` (0.2·x + 0.5, not Keras 3's relu6(x + 3)/6) is rejected rather
  /// than silently computed differently.
  static func decode(_ value: JSONValue?, layer: KerasLayerConfig, key: String) throws(AdaError)
    -> Activation
  {
    guard let value, !value.isNull else { return .linear }
    let name: String
    if let s = value.string {
      name = s
    } else if let cls = value["class_name"]?.string {
      // {"class_name": "function", "config": "relu"} or {"class_name": "relu", …}
      if cls == "function", let s = value["config"]?.string {
        name = s
      } else if byName[cls] != nil {
        name = cls
      } else {
        throw layer.unsupported(key, cls, "only the built-in activation functions are supported")
      }
    } else {
      throw layer.unsupported(key, value.text)
    }
    let key2 = name.hasPrefix("keras.activations.") ? String(name.dropFirst(18)) : name
    guard let a = byName[key2] else {
      throw layer.error(
        .unsupported,
        "layer '\(layer.name)' (\(layer.className)) uses activation '\(name)', which adascale "
          + "does not support (supported: \(byName.keys.sorted().joined(separator: ", ")))")
    }
    if a == .hardSigmoid && layer.kerasMajor < 3 {
      throw layer.unsupported(
        key, "hard_sigmoid", "Keras 2 defines it as clip(0.2·x + 0.5, 0, 1), adascale as relu6(x + 3)/6")
    }
    return a
  }
}
