import AdaNN
import AdaTensor
import Foundation

/// Where a dataset comes from, as named on the command line or in a recipe:
/// `fashion-mnist` (the IDX files, default directory `/usr/share/datasets/fashion-mnist`,
/// overridable), or a path to an HDF5 dataset file (see `DatasetFile`).
///
///     let source = try DatasetSource.resolve("fashion-mnist")
///     let train = try source.load(.train)
///     let mine = try DatasetSource.resolve("data/digits.h5").load(.test)
public enum DatasetSource: Sendable, Equatable {
  case fashionMNIST(directory: String)
  case hdf5(path: String)

  /// Environment variable that overrides the Fashion-MNIST directory.
  public static let fashionMNISTEnvironmentKey = "ADASCALE_FASHION_MNIST_DIR"

  /// Names accepted for Fashion-MNIST.
  public static let fashionMNISTNames: Set<String> = ["fashion-mnist", "fashion_mnist", "fmnist"]

  /// Resolves a dataset name or path. Fashion-MNIST's directory is `fashionMNISTDirectory`, else
  /// `$ADASCALE_FASHION_MNIST_DIR`, else the default. A path that does not exist is
  /// `.fileNotFound`; anything else unknown is `.invalidValue`.
  public static func resolve(_ spec: String, fashionMNISTDirectory: String? = nil) throws(AdaError)
    -> DatasetSource
  {
    if fashionMNISTNames.contains(spec.lowercased()) {
      let env = ProcessInfo.processInfo.environment[fashionMNISTEnvironmentKey]
      return .fashionMNIST(directory: fashionMNISTDirectory ?? env ?? FashionMNIST.defaultDirectory)
    }
    let looksLikePath = spec.contains("/") || [".h5", ".hdf5"].contains { spec.lowercased().hasSuffix($0) }
    if FileManager.default.fileExists(atPath: spec) || looksLikePath {
      guard FileManager.default.fileExists(atPath: spec) else {
        throw AdaError(.fileNotFound, file: spec, "dataset file does not exist")
      }
      return .hdf5(path: spec)
    }
    throw AdaError(
      .invalidValue, path: spec, "unknown dataset '\(spec)'",
      hint: "use fashion-mnist or the path of an HDF5 dataset file (see datasets/README.md)")
  }

  /// Loads one split (its first `limit` examples). Pixels stay uint8 in memory; an HDF5 split
  /// whose examples take more than `maxMemory` bytes as stored (default
  /// `MemoryBudget.defaultLimit`) is streamed from its file instead. Fashion-MNIST (47 MB as
  /// uint8) is always read whole.
  public func load(_ split: DatasetSplit, limit: Int? = nil, maxMemory: Int? = nil) throws(AdaError)
    -> LabeledDataset
  {
    switch self {
    case .fashionMNIST(let directory):
      return try FashionMNIST.load(split, directory: directory, limit: limit)
    case .hdf5(let path):
      return try DatasetFile.load(path: path, split: split, limit: limit, maxMemory: maxMemory)
    }
  }

  /// A short name for reports: `fashion-mnist` or the file name.
  public var name: String {
    switch self {
    case .fashionMNIST: "fashion-mnist"
    case .hdf5(let path): URL(fileURLWithPath: path).lastPathComponent
    }
  }
}
