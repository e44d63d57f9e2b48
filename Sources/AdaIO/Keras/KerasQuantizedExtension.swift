import AdaNN
import AdaTensor
import Foundation

/// adascale's extension to the Keras legacy `.h5`: the integers and scales of quantized weights,
/// in a root group Keras never reads. Keras loads the file's ordinary float weights (the
/// dequantized values) and ignores the group; adascale's `load(path:config:)` reads both.
///
///     /adascale_quantized                      attrs: format = "adascale-quantized", version = 1
///       /<layer>/<weight>                      attrs: bits (int32), axis (int32)
///         q      int8    shape of the weight   (one value per int8, also for 4 bits)
///         scale  float32 [channels]            (channels = product of the weight's dims from axis on)
///
/// `<weight>` is adascale's parameter name (`kernel`), not Keras's. See docs/formats.md.
public enum KerasQuantizedExtension {
  /// Name of the root group.
  public static let groupName = "adascale_quantized"
  /// Value of the group's `format` attribute.
  public static let format = "adascale-quantized"
  /// Layout version written; the reader accepts exactly this one.
  public static let version = 1

  /// Writes `quantized` into `root` (nothing at all when it is empty). Called by
  /// `KerasModelWriter.save` inside its atomic write, after checking the table against the model.
  static func write(_ quantized: QuantizedWeights, into root: HDF5Group) throws(AdaError) {
    guard !quantized.isEmpty else { return }
    let group = try root.createGroup(groupName)
    try group.writeAttribute("format", string: format)
    try group.writeAttribute("version", values: [Int32(version)], shape: [])
    for key in quantized.keys.sorted() {
      let q = quantized[key]!
      let entry = try group.createGroup(key)
      try entry.writeAttribute("bits", values: [Int32(q.bits)], shape: [])
      try entry.writeAttribute("axis", values: [Int32(q.axis)], shape: [])
      try entry.write(dataset: "q", shape: q.shape, values: q.values)
      try entry.write(dataset: "scale", shape: [q.scales.count], values: q.scales)
    }
  }

  /// The quantized weights stored in the legacy `.h5` at `path`, checked against `model` (the
  /// model read from the same file): each entry names a weight of the model and the model's
  /// float values are exactly its dequantized integers. Empty when the file has no such group
  /// (any Keras file) or is not HDF5 (`.keras`).
  public static func read(path: String, model: Model) throws(AdaError) -> QuantizedWeights {
    let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 8)) ?? nil
    guard let head, Array(head) == [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a] else { return [:] }
    let file = try HDF5File.open(path)
    guard try file.root.kind(of: groupName) == .group else { return [:] }
    let group = try file.root.group(groupName)
    let found = try group.readString(attribute: "format")
    guard found == format else {
      throw AdaError(
        .badFormat, file: path, path: "/\(groupName)@format", "expected '\(format)', found '\(found)'")
    }
    let foundVersion = try group.readNumbers(attribute: "version").first.map { Int($0) }
    guard foundVersion == version else {
      throw AdaError(
        .unsupported, file: path, path: "/\(groupName)@version",
        "quantized-weights layout version \(foundVersion.map(String.init) ?? "?") is not supported (expected \(version))",
        hint: "the file was written by a newer adascale")
    }
    var table: QuantizedWeights = [:]
    for layer in try group.children(ofKind: .group) {
      for weight in try group.group(layer).children(ofKind: .group) {
        let key = Parameters.key(layer, weight)
        table[key] = try readEntry(try group.group(key), path: path)
      }
    }
    try table.validate(against: model, file: path)
    return table
  }

  /// One `<layer>/<weight>` group.
  static func readEntry(_ entry: HDF5Group, path: String) throws(AdaError) -> QuantizedTensor {
    func integer(_ name: String) throws(AdaError) -> Int {
      let values = try entry.readNumbers(attribute: name)
      guard values.count == 1, let v = Int(exactly: values[0]) else {
        throw AdaError(
          .badFormat, file: path, path: "\(entry.path)@\(name)", "expected one integer, found \(values)")
      }
      return v
    }
    let bits = try integer("bits")
    let axis = try integer("axis")
    for name in ["q", "scale"] where try entry.kind(of: name) != .dataset {
      throw AdaError(.missing, file: path, path: "\(entry.path)/\(name)", "dataset is missing")
    }
    guard case .integer = try entry.dataset("q").elementClass() else {
      throw AdaError(.badFormat, file: path, path: "\(entry.path)/q", "expected integers")
    }
    let (shape, wide) = try entry.dataset("q").read(Int32.self)
    let limit = Int32(Int8.max)
    if let bad = wide.firstIndex(where: { !(-limit...limit).contains($0) }) {
      throw AdaError(
        .invalidValue, file: path, path: "\(entry.path)/q",
        "value \(wide[bad]) at flat index \(bad) exceeds int8")
    }
    let (scaleShape, scales) = try entry.dataset("scale").read(Float.self)
    guard scaleShape.count == 1 else {
      throw AdaError(
        .badShape, file: path, path: "\(entry.path)/scale", "expected a vector, found shape \(scaleShape)")
    }
    let q = QuantizedTensor(
      bits: bits, axis: axis, shape: shape, values: wide.map { Int8($0) }, scales: scales)
    do {
      try q.validate(path: String(entry.path.drop { $0 == "/" }))
    } catch {
      throw error.inFile(path)
    }
    return q
  }
}

extension KerasModelReader {
  /// `load(path:config:)`, plus the quantized weights adascale stored beside the float weights
  /// (empty for files without them).
  public static func loadWithQuantized(path: String, config: String? = nil) throws(AdaError) -> (
    model: Model, quantized: QuantizedWeights
  ) {
    let model = try load(path: path, config: config)
    return (model, try KerasQuantizedExtension.read(path: path, model: model))
  }
}
