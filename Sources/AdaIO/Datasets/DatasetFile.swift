import AdaNN
import AdaTensor
import Foundation

/// A labelled image dataset in one HDF5 file — the format for users' own data:
///
/// | dataset | shape | type |
/// |---|---|---|
/// | `x_train` (or `x`) | `[N, H, W, C]`, `[N, H, W]` (one channel) or `[N, F]` | uint8 (scaled by 1/255) or float32/float64 (used as stored) |
/// | `y_train` (or `y`) | `[N]` or `[N, 1]` | any integer type (or floats holding whole numbers), class ids `0..<classCount` |
/// | `x_test`, `y_test` | as above | optional test split |
///
/// Root attributes (all optional): `class_count` (integer), `class_names` (strings), `name`.
/// Without them the class count is 1 + the largest label over both splits.
///
///     let train = try DatasetFile.load(path: "digits.h5", split: .train)
public enum DatasetFile {
  public static func load(path: String, split: DatasetSplit) throws(AdaError) -> LabeledDataset {
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
    let images = try readImages(root.dataset(names.x))
    let labels = try readLabels(root.dataset(names.y), count: images.shape[0])

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
    let name = (try? root.readString(attribute: "name")) ?? stem
    return LabeledDataset(
      name: "\(name)-\(split.rawValue)", images: images, labels: labels, classCount: classCount)
  }

  /// `x`: uint8 → /255, floats as stored; `[N, H, W]` gains a channel axis.
  static func readImages(_ d: HDF5Dataset) throws(AdaError) -> Tensor {
    var t = try d.readTensor()
    guard t.rank >= 2, t.shape[0] > 0 else {
      throw AdaError(
        .badShape, file: d.file.path, path: d.path, "images should be [N, …] with N > 0, found \(t.shape)")
    }
    switch try d.elementClass() {
    case .integer(bytes: 1, signed: false):
      t.scalars.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] /= 255 } }
    case .float:
      if let bad = t.scalars.firstIndex(where: { !$0.isFinite }) {
        throw AdaError(
          .nonFinite, file: d.file.path, path: d.path,
          "image data holds \(t.scalars[bad]) at flat index \(bad)")
      }
    default:
      throw AdaError(
        .unsupported, file: d.file.path, path: d.path,
        "images must be uint8 (0…255) or float32/float64; found \(try d.elementClass())")
    }
    if t.rank == 3 { t.reshape(t.shape + [1]) }
    return t
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
