import AdaCore
import AdaIO
import AdaNN
import AdaTensor
import Foundation

/// A labelled image dataset in one HDF5 file — the format for users' own data:
///
/// | dataset | shape | type |
/// |---|---|---|
/// | `x_train` (or `x`) | `[N, H, W, C]`, `[N, H, W]` (one channel) or `[N, F]` | uint8 (kept as uint8, drawn as x/255 by default) or float32/float64 (used as stored) |
/// | `y_train` (or `y`) | `[N]` or `[N, 1]` | any integer type (or floats holding whole numbers), class ids `0..<classCount` |
/// | `x_test`, `y_test` | as above | optional test split |
///
/// Root attributes (all optional): `class_count` (integer), `class_names` (strings), `name`.
/// Without them the class count is 1 + the largest label over both splits.
///
/// The images of the split (its first `limit` rows) are read into memory when they take at most
/// `maxMemory` bytes as stored (default `MemoryBudget.defaultLimit`), and streamed from the file
/// a batch at a time otherwise (`HDF5ExampleReader`).
///
///     let train = try DatasetFile.load(path: "digits.h5", split: .train)
///     let big = try DatasetFile.load(path: "big.h5", split: .train, maxMemory: 1 << 30)
public enum DatasetFile {
  public static func load(path: String, split: DatasetSplit, limit: Int? = nil, maxMemory: Int? = nil)
    throws(AdaError) -> LabeledDataset
  {
    let file = try HDF5File.open(path)
    let root = file.root
    let names: (x: String, y: String)
    switch split {
    case .train:
      names = root.contains("x_train") ? ("x_train", "y_train") : ("x", "y")
    case .test:
      names = ("x_test", "y_test")
    }
    guard root.contains(names.x) else {
      let existing = (try? root.walkDatasets())?.joined(separator: ", ") ?? ""
      throw AdaError(
        .missing, file: path, path: names.x,
        split == .test
          ? "the file has no test split (x_test / y_test); it has: \(existing)"
          : "the file has no images (x_train or x); it has: \(existing)")
    }
    let reader = try HDF5ExampleReader(dataset: root.dataset(names.x))
    let labels = try readLabels(root.dataset(names.y), count: reader.count)

    var classCount = 0
    if try root.hasAttribute("class_count"), let c = try root.readNumbers(attribute: "class_count").first {
      classCount = Int(c)
    } else if try root.hasAttribute("class_names") {
      classCount = try root.readStrings(attribute: "class_names").count
    } else {
      var maxLabel = labels.max() ?? 0
      let other = split == .train ? "y_test" : (root.contains("y_train") ? "y_train" : "y")
      if root.contains(other), let l = try? readLabels(root.dataset(other), count: nil) {
        maxLabel = max(maxLabel, l.max() ?? 0)
      }
      classCount = Int(maxLabel) + 1
    }
    if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
      throw AdaError(
        .invalidValue, file: path, path: names.y,
        "label \(labels[bad]) at index \(bad) is outside 0..<\(classCount) (class_count)")
    }
    let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    let name = "\((try? root.readString(attribute: "name")) ?? stem)-\(split.rawValue)"
    let n = min(reader.count, limit ?? .max)
    let bytes = n * reader.exampleShape.elementCount * reader.element.byteCount
    if bytes > maxMemory ?? MemoryBudget.defaultLimit {
      let streamed = LabeledDataset(name: name, reader: reader, labels: labels, classCount: classCount)
      return n == reader.count ? streamed : streamed.subset(Array(0..<n))
    }
    return try readAll(
      reader, rows: n, name: name, labels: Array(labels.prefix(n)), classCount: classCount)
  }

  /// The first `rows` examples of `reader` in memory: uint8 as bytes, floats as Float32.
  static func readAll(
    _ reader: HDF5ExampleReader, rows: Int, name: String, labels: [Int32], classCount: Int
  ) throws(AdaError) -> LabeledDataset {
    let inner = reader.exampleShape.elementCount
    switch reader.element {
    case .uint8:
      var pixels = [UInt8](repeating: 0, count: rows * inner)
      try pixels.withUnsafeMutableBufferPointer { (p) throws(AdaError) in
        try reader.read(rows: Array(0..<rows), into: UnsafeMutableRawBufferPointer(p))
      }
      return LabeledDataset(
        name: name, pixels: pixels, exampleShape: reader.exampleShape, labels: labels, classCount: classCount)
    case .float32:
      var values = Tensor(shape: [rows] + reader.exampleShape)
      try values.scalars.withUnsafeMutableBufferPointer { (p) throws(AdaError) in
        try reader.read(rows: Array(0..<rows), into: UnsafeMutableRawBufferPointer(p))
      }
      return LabeledDataset(name: name, images: values, labels: labels, classCount: classCount)
    }
  }

  /// `y`: `[N]` or `[N, 1]` whole numbers → Int32; `count` checks N against the images.
  static func readLabels(_ d: HDF5Dataset, count: Int?) throws(AdaError) -> [Int32] {
    let (shape, values) = try d.read(Double.self)
    guard shape.count == 1 || (shape.count == 2 && shape[1] == 1) else {
      throw AdaError(
        .badShape, file: d.file.path, path: d.path, "labels should be [N] or [N, 1], found \(shape)")
    }
    if let count, shape[0] != count {
      throw AdaError(.badShape, file: d.file.path, path: d.path, "\(shape[0]) labels for \(count) images")
    }
    if let bad = values.firstIndex(where: { $0.rounded() != $0 || abs($0) > Double(Int32.max) }) {
      throw AdaError(
        .invalidValue, file: d.file.path, path: d.path,
        "label \(values[bad]) at index \(bad) is not a class id")
    }
    return values.map { Int32($0) }
  }
}
