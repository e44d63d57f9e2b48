import AdaNN
import AdaTensor
import Foundation

/// Which part of a dataset to load.
public enum DatasetSplit: String, Sendable, CaseIterable {
  case train, test
}

/// Fashion-MNIST (Zalando Research, MIT licence): 70,000 grey 28×28 images of 10 clothing
/// classes, 60k train / 10k test, as gzip'd IDX files. The Debian package
/// `dataset-fashion-mnist` installs them in `/usr/share/datasets/fashion-mnist/`.
///
///     let train = try FashionMNIST.load(.train)     // [60000, 28, 28, 1] uint8, drawn in [0, 1]
///     let test = try FashionMNIST.load(.test, directory: "/data/fmnist", limit: 1000)
public enum FashionMNIST {
  public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
  public static let classNames = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
    "Ankle boot",
  ]

  /// File name stems of a split: (images, labels).
  public static func fileStems(_ split: DatasetSplit) -> (images: String, labels: String) {
    let prefix = split == .train ? "train" : "t10k"
    return ("\(prefix)-images-idx3-ubyte", "\(prefix)-labels-idx1-ubyte")
  }

  /// Loads a split: images `[N, 28, 28, 1]` kept as uint8 (47 MB for the training split, a
  /// quarter of Float32), drawn as x/255 in [0, 1] unless prepared otherwise; labels 0…9. Reads `STEM.gz`, or
  /// `STEM` when only the uncompressed file is there. `limit` keeps the first examples only.
  public static func load(
    _ split: DatasetSplit, directory: String = defaultDirectory, limit: Int? = nil
  ) throws(AdaError) -> LabeledDataset {
    let stems = fileStems(split)
    let imagesPath = try locate(stems.images, in: directory)
    let labelsPath = try locate(stems.labels, in: directory)
    let images = try IDXFile.read(path: imagesPath)
    let labels = try IDXFile.read(path: labelsPath)
    guard images.dims.count == 3 else {
      throw AdaError(.badShape, file: imagesPath, "images should be [N, H, W], found \(images.dims)")
    }
    guard labels.dims.count == 1 else {
      throw AdaError(.badShape, file: labelsPath, "labels should be [N], found \(labels.dims)")
    }
    guard labels.dims[0] == images.dims[0] else {
      throw AdaError(
        .badShape, file: labelsPath,
        "\(labels.dims[0]) labels for \(images.dims[0]) images in \(imagesPath)")
    }
    if let bad = labels.bytes.firstIndex(where: { Int($0) >= classNames.count }) {
      throw AdaError(
        .invalidValue, file: labelsPath,
        "label \(labels.bytes[bad]) at index \(bad) is not a class 0…\(classNames.count - 1)")
    }
    let n = min(images.dims[0], limit ?? .max)
    let (h, w) = (images.dims[1], images.dims[2])
    var pixels = images.bytes
    if pixels.count > n * h * w { pixels.removeLast(pixels.count - n * h * w) }
    return LabeledDataset(
      name: "fashion-mnist-\(split.rawValue)", pixels: pixels, exampleShape: [h, w, 1],
      labels: labels.bytes.prefix(n).map { Int32($0) }, classCount: classNames.count)
  }

  /// `directory/stem.gz`, else `directory/stem`; `.fileNotFound` naming the expected file.
  static func locate(_ stem: String, in directory: String) throws(AdaError) -> String {
    let base = URL(fileURLWithPath: directory)
    for name in ["\(stem).gz", stem] {
      let p = base.appendingPathComponent(name).path
      if FileManager.default.fileExists(atPath: p) { return p }
    }
    throw AdaError(
      .fileNotFound, file: base.appendingPathComponent("\(stem).gz").path,
      "Fashion-MNIST file is missing",
      hint: "install the Debian package dataset-fashion-mnist, or pass the directory holding the IDX files")
  }
}
