import AdaNN
import AdaTensor

/// One layer entry of a Keras model config, with typed accessors whose errors name the file, the
/// layer, and the config key. This is where Keras's option spellings are read.
///
///     let c = KerasLayerConfig(name: "conv1", className: "Conv2D", config: json, file: "m.h5")
///     let k = try c.size2("kernel_size")          // 3 or [3, 3] → Size2(3, 3)
struct KerasLayerConfig {
  var name: String
  var className: String
  var config: JSONValue
  var file: String?
  /// Major Keras version that wrote the config (2 or 3); some semantics differ.
  var kerasMajor: Int = 3

  func error(_ kind: AdaError.Kind, _ message: String) -> AdaError {
    AdaError(kind, file: file, path: name, message)
  }

  /// An unsupported option: `layer 'c1' (Conv2D): data_format = channels_first is not supported`.
  func unsupported(_ key: String, _ value: String, _ why: String = "") -> AdaError {
    error(
      .unsupported,
      "layer '\(name)' (\(className)) has \(key) = \(value), which adascale does not support"
        + (why.isEmpty ? "" : " (\(why))"))
  }

  private func invalid(_ key: String, _ expected: String) -> AdaError {
    let found = config[key].map { $0.text } ?? "nothing"
    return error(
      .invalidValue, "layer '\(name)' (\(className)): \(key) should be \(expected), found \(found)")
  }

  /// The value at `key`, treating JSON null as absent.
  func value(_ key: String) -> JSONValue? {
    guard let v = config[key], !v.isNull else { return nil }
    return v
  }

  func int(_ key: String, default fallback: Int? = nil) throws(AdaError) -> Int {
    guard let v = value(key) else {
      if let fallback { return fallback }
      throw error(.missing, "layer '\(name)' (\(className)) has no '\(key)' in its config")
    }
    // Keras sometimes stores single values as one-element lists (`"axis": [3]`).
    if let x = v.int ?? (v.array?.count == 1 ? v.array?[0].int : nil) { return x }
    throw invalid(key, "an integer")
  }

  func float(_ key: String, default fallback: Float? = nil) throws(AdaError) -> Float {
    guard let v = value(key) else {
      if let fallback { return fallback }
      throw error(.missing, "layer '\(name)' (\(className)) has no '\(key)' in its config")
    }
    guard let x = v.double else { throw invalid(key, "a number") }
    return Float(x)
  }

  func optionalFloat(_ key: String) throws(AdaError) -> Float? {
    guard let v = value(key) else { return nil }
    guard let x = v.double else { throw invalid(key, "a number or null") }
    return Float(x)
  }

  func bool(_ key: String, default fallback: Bool) throws(AdaError) -> Bool {
    guard let v = value(key) else { return fallback }
    guard let b = v.bool else { throw invalid(key, "true or false") }
    return b
  }

  func string(_ key: String, default fallback: String) throws(AdaError) -> String {
    guard let v = value(key) else { return fallback }
    guard let s = v.string else { throw invalid(key, "a string") }
    return s
  }

  /// A spatial pair: `3` or `[3, 3]` (or `[3]` for both).
  func size2(_ key: String, default fallback: Size2? = nil) throws(AdaError) -> Size2 {
    guard let v = value(key) else {
      if let fallback { return fallback }
      throw error(.missing, "layer '\(name)' (\(className)) has no '\(key)' in its config")
    }
    if let n = v.int, n > 0 { return .square(n) }
    if let a = v.array?.compactMap(\.int), a.count == v.array?.count, a.allSatisfy({ $0 > 0 }) {
      if a.count == 2 { return Size2(a[0], a[1]) }
      if a.count == 1 { return .square(a[0]) }
    }
    throw invalid(key, "a positive integer or a pair of them")
  }

  /// A list of integers (`null` entries become -1, as in `Reshape`'s `target_shape`).
  func intList(_ key: String) throws(AdaError) -> [Int] {
    guard let a = value(key)?.array else { throw invalid(key, "a list of integers") }
    var out: [Int] = []
    for v in a {
      if v.isNull {
        out.append(-1)
      } else if let n = v.int {
        out.append(n)
      } else {
        throw invalid(key, "a list of integers")
      }
    }
    return out
  }

  /// `padding`: `valid` or `same`.
  func padding() throws(AdaError) -> Padding {
    let p = try string("padding", default: "valid").lowercased()
    guard let padding = Padding(rawValue: p) else { throw unsupported("padding", p) }
    return padding
  }

  /// Rejects `channels_first`; adascale is NHWC only.
  func requireChannelsLast() throws(AdaError) {
    let f = try string("data_format", default: "channels_last")
    guard f == "channels_last" else { throw unsupported("data_format", f, "adascale is channels_last only") }
  }

  /// The layer's `activation` option (a string, or Keras 3's dict form).
  func activation(_ key: String = "activation") throws(AdaError) -> Activation {
    try KerasActivation.decode(config[key], layer: self, key: key)
  }
}
