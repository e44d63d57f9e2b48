import AdaTensor

/// A weight tensor stored as signed integers with one scale per output channel (symmetric,
/// per-channel quantisation): `w ≈ Float(q) · scale[channel]`.
///
/// The *channel* of an element is its flat index modulo `channelCount`, where `channelCount` is
/// the product of the dimensions from `axis` to the end. For adascale's kernels that is the
/// output channel: Conv2D `[kh, kw, in, out]` and Dense `[in, out]` use the last axis;
/// DepthwiseConv2D `[kh, kw, in, mult]` uses `axis = 2`, i.e. the `in · mult` channels its bias
/// has. Values lie in `[−(2^(bits−1) − 1), 2^(bits−1) − 1]` (the symmetric range; −2^(bits−1) is
/// never used) and are held one per `Int8` whatever `bits` is; `storedBytes` counts them packed.
///
/// AdaNN runs models on Float weights: a quantized model carries `dequantized()` values in its
/// `Parameters` and these integers beside them (see `docs/operators.md`).
///
///     let q = QuantizedTensor(bits: 8, axis: 3, shape: [3, 3, 16, 32], values: ints, scales: s)
///     let w = q.dequantized()      // [3, 3, 16, 32]
public struct QuantizedTensor: Codable, Hashable, Sendable {
  /// Bits per value, 2…8.
  public var bits: Int
  /// First axis of the channel block (see the type's description).
  public var axis: Int
  /// Shape of the weight, e.g. `[3, 3, 16, 32]`.
  public var shape: [Int]
  /// One integer per element, row-major like `shape`.
  public var values: [Int8]
  /// One scale per channel, `[channelCount]`.
  public var scales: [Float]

  public init(bits: Int, axis: Int, shape: [Int], values: [Int8], scales: [Float]) {
    self.bits = bits
    self.axis = axis
    self.shape = shape
    self.values = values
    self.scales = scales
  }

  /// Largest magnitude a value may take: `2^(bits−1) − 1` (127 for 8 bits, 7 for 4).
  public static func maximumMagnitude(bits: Int) -> Int { (1 << (bits - 1)) - 1 }

  /// Number of channels: the product of `shape[axis...]`.
  public var channelCount: Int { Self.channelCount(shape: shape, axis: axis) }

  public static func channelCount(shape: [Int], axis: Int) -> Int { Array(shape[axis...]).elementCount }

  /// `Float(q) · scale[channel]`, shaped like the original weight.
  public func dequantized() -> Tensor {
    let channels = scales.count
    var out = [Float](repeating: 0, count: values.count)
    for i in values.indices { out[i] = Float(values[i]) * scales[i % channels] }
    return Tensor(shape: shape, scalars: out)
  }

  /// Bytes when stored packed: `ceil(count · bits / 8)` for the values plus 4 per scale.
  public var storedBytes: Int { (values.count * bits + 7) / 8 + 4 * scales.count }

  /// Checks the invariants (for tensors read from files). Errors name `path`.
  public func validate(path: String) throws(AdaError) {
    guard (2...8).contains(bits) else {
      throw AdaError(.invalidValue, path: path, "bits must be 2…8, found \(bits)")
    }
    guard axis >= 0 && axis < shape.count else {
      throw AdaError(.invalidValue, path: path, "channel axis \(axis) is outside the shape \(shape)")
    }
    guard values.count == shape.elementCount else {
      throw AdaError(
        .badShape, path: path, "\(values.count) values for shape \(shape) (\(shape.elementCount) expected)")
    }
    guard scales.count == channelCount else {
      throw AdaError(
        .badShape, path: path,
        "\(scales.count) scales, expected \(channelCount) (one per channel of axes \(axis)… of \(shape))")
    }
    if let bad = scales.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
      throw AdaError(.invalidValue, path: path, "scale \(bad) is \(scales[bad]), expected a positive number")
    }
    let limit = Self.maximumMagnitude(bits: bits)
    if let bad = values.firstIndex(where: { abs(Int($0)) > limit }) {
      throw AdaError(
        .invalidValue, path: path,
        "value \(values[bad]) at flat index \(bad) is outside ±\(limit) for \(bits) bits")
    }
  }
}

/// The integer side table of a quantized model: for each quantized weight (key `node/name`, as in
/// `Parameters`), its integers and per-channel scales. The model's `Parameters` hold the same
/// weights dequantized, so every executor and the Keras writer run them unchanged.
public typealias QuantizedWeights = [String: QuantizedTensor]

extension Model {
  /// Bytes of the stored weights: 4 per Float32 scalar, and `storedBytes` for each weight in
  /// `quantized` (keyed `node/name`, like `parameters`).
  public func weightBytes(quantized: [String: QuantizedTensor] = [:]) -> Int {
    parameters.tensors.reduce(0) { sum, entry in
      sum + (quantized[entry.key]?.storedBytes ?? 4 * entry.value.count)
    }
  }
}

extension Dictionary where Key == String, Value == QuantizedTensor {
  /// The entries still valid for `model`: the weight exists and its value equals the
  /// dequantized integers exactly. An operator that rewrites a weight invalidates its entry;
  /// one that leaves it alone keeps it. Used to carry the table through a chain of operators.
  public func stillMatching(_ model: Model) -> QuantizedWeights {
    filter { key, q in model.parameters.tensors[key].map { $0 == q.dequantized() } ?? false }
  }

  /// Checks every entry against `model` (the weight exists, is a kernel adascale quantizes, and
  /// equals the dequantized integers); errors name the weight and, when given, the file.
  public func validate(against model: Model, file: String? = nil) throws(AdaError) {
    for key in keys.sorted() {
      let q = self[key]!
      do {
        try q.validate(path: key)
      } catch {
        throw file.map { error.inFile($0) } ?? error
      }
      guard let weight = model.parameters.tensors[key] else {
        throw AdaError(.missing, file: file, path: key, "quantized weight has no counterpart in the model")
      }
      guard weight.shape == q.shape else {
        throw AdaError(
          .badShape, file: file, path: key,
          "quantized weight has shape \(q.shape), the model's weight \(weight.shape)")
      }
      let dq = q.dequantized()
      if let bad = dq.scalars.indices.first(where: { dq.scalars[$0] != weight.scalars[$0] }) {
        throw AdaError(
          .invalidValue, file: file, path: key,
          "the model's weight is not the dequantized integers (flat index \(bad): "
            + "\(weight.scalars[bad]) vs \(dq.scalars[bad]))",
          hint: "the float weights were changed after quantisation; quantize again")
      }
    }
  }
}

extension QuantizedWeights {
  /// Bit width per node name (keys `node/weight` → `node`), as the profiler takes it.
  public var bitsByNode: [String: Int] {
    var bits: [String: Int] = [:]
    for (key, q) in self { bits[String(key.prefix { $0 != "/" })] = q.bits }
    return bits
  }
}
