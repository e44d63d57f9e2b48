import AdaTensor

/// How pixel values (0–255) become model inputs: the conventions of
/// `keras.applications.imagenet_utils.preprocess_input(x, mode=…)`, plus adascale's default.
/// Channels-last; the arithmetic is Keras' NumPy path in Float32, operation by operation, so the
/// values are the same to the bit:
///
/// | mode | value | Keras |
/// |---|---|---|
/// | `unit` (default) | x / 255, in [0, 1] | `x / 255.0` |
/// | `tf` | x / 127.5 − 1, in [−1, 1] | `preprocess_input(x, mode="tf")` |
/// | `torch` | (x / 255 − mean[c]) / std[c], ImageNet mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225) | `mode="torch"` |
/// | `caffe` | RGB → BGR, then x − mean[c] with BGR means (103.939, 116.779, 123.68); no scaling | `mode="caffe"` |
/// | `raw` | x (0–255 as floats) | — |
///
/// `torch` and `caffe` need 3 channels. Float datasets are used as stored: only `unit` applies
/// to them (see `ExamplePreparation`).
public enum PreprocessMode: String, Codable, Hashable, Sendable, CaseIterable {
  case unit, tf, torch, caffe, raw

  /// The mode as arithmetic on a pixel value x (0–255), for manifests and reports.
  public var formula: String {
    switch self {
    case .unit: "x / 255"
    case .tf: "x / 127.5 - 1"
    case .torch: "(x / 255 - [0.485, 0.456, 0.406][c]) / [0.229, 0.224, 0.225][c], RGB channel c"
    case .caffe: "RGB -> BGR, then x - [103.939, 116.779, 123.68][c], BGR channel c"
    case .raw: "x"
    }
  }

  /// Whether the mode works per channel (and so needs exactly 3).
  public var needsThreeChannels: Bool { self == .torch || self == .caffe }

  static let torchMean: [Float] = [0.485, 0.456, 0.406]
  static let torchStd: [Float] = [0.229, 0.224, 0.225]
  static let caffeMean: [Float] = [103.939, 116.779, 123.68]

  /// Prepares one pixel value `x` (0–255) landing in output channel `k` (after the BGR swap for
  /// `caffe`, so `k` indexes the means in Keras' order).
  @inline(__always)
  public func apply(_ x: Float, channel k: Int) -> Float {
    switch self {
    case .unit: return x / 255
    case .tf: return x / 127.5 - 1
    case .torch: return (x / 255 - Self.torchMean[k]) / Self.torchStd[k]
    case .caffe: return x - Self.caffeMean[k]
    case .raw: return x
    }
  }

  /// Applies the mode in place to `[…, C]` pixel values (C = 3 for `torch` and `caffe`).
  public func apply(_ values: UnsafeMutableBufferPointer<Float>, channels c: Int) {
    precondition(!needsThreeChannels || c == 3, "PreprocessMode.\(rawValue) needs 3 channels, got \(c)")
    precondition(values.count % c == 0, "PreprocessMode: \(values.count) values are not whole pixels of \(c)")
    switch self {
    case .raw: return
    case .unit, .tf:
      for i in values.indices { values[i] = apply(values[i], channel: 0) }
    case .torch:
      for i in values.indices { values[i] = apply(values[i], channel: i % 3) }
    case .caffe:
      for p in stride(from: 0, to: values.count, by: 3) {
        let (r, b) = (values[p], values[p + 2])
        values[p] = apply(b, channel: 0)
        values[p + 1] = apply(values[p + 1], channel: 1)
        values[p + 2] = apply(r, channel: 2)
      }
    }
  }

  /// The prepared value of every byte 0…255 in each channel: `table[k * 256 + b]` (for
  /// `caffe`, `k` is the output channel, fed by input channel 2 − k).
  public func byteTable(channels c: Int) -> [Float] {
    (0..<c).flatMap { k in (0..<256).map { apply(Float($0), channel: needsThreeChannels ? k : 0) } }
  }
}
