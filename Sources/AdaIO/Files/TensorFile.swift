import AdaCore
import AdaTensor
import Foundation

/// Tensors in and out of adascale commands: datasets in a plain HDF5 file (`x` in, `y` out by
/// default), readable and writable with h5py (`h5py.File("in.h5")["x"][...]`).
///
///     let x = try TensorFile.read(path: "in.h5")                       // dataset "x", any numeric type
///     try TensorFile.write([("y", probabilities)], to: "out.h5")      // float32, atomic
public enum TensorFile {
  /// Reads the numeric dataset `dataset` as Float32 (integers and float64 are converted).
  /// A missing dataset is `.missing` naming the file and the dataset, listing those that exist.
  public static func read(path: String, dataset: String = "x") throws(AdaError) -> Tensor {
    let file = try HDF5File.open(path)
    guard try file.root.kind(of: dataset) == .dataset else {
      let existing = (try? file.root.walkDatasets()) ?? []
      throw AdaError(
        .missing, file: path, path: dataset,
        "no dataset '\(dataset)'; the file has "
          + (existing.isEmpty ? "no datasets" : existing.joined(separator: ", ")))
    }
    return try file.root.dataset(dataset).readTensor()
  }

  /// Names of every dataset in the file (nested ones as `group/name`), sorted.
  public static func datasetNames(path: String) throws(AdaError) -> [String] {
    try HDF5File.open(path).root.walkDatasets()
  }

  /// Writes `tensors` as float32 datasets (names may contain `/` for groups), replacing any file
  /// at `path` atomically (temporary file, then rename). Duplicate names are `.invalidValue`.
  public static func write(_ tensors: [(String, Tensor)], to path: String) throws(AdaError) {
    var seen = Set<String>()
    for (name, _) in tensors {
      guard !name.isEmpty, seen.insert(name).inserted else {
        throw AdaError(.invalidValue, file: path, path: name, "dataset name is empty or used twice")
      }
    }
    try AtomicFile.write(to: path) { (temporary) throws(AdaError) in
      let file = try HDF5File.createInMemory(temporary)
      for (name, tensor) in tensors { try file.root.write(dataset: name, tensor: tensor) }
      try file.close()
    }
  }
}
