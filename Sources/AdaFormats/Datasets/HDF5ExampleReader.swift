import AdaCore
import AdaIO
import AdaNN
import AdaTensor
import Foundation

/// Streams the examples of an HDF5 dataset (`x_train`, `x_test`, …) a batch at a time, for
/// data above the memory budget (`MemoryBudget`). Each batch is one hyperslab read of its rows
/// in ascending order (`HDF5Dataset.readRows`); uint8 stays uint8 until the batch is prepared,
/// float data is read as Float32 and checked to be finite.
///
/// Random rows of a contiguous (or row-chunked) dataset read at page-cache speed; for a
/// dataset chunked across many rows and compressed, every row touched decompresses its chunk
/// (see datasets/README.md, "Streaming").
///
///     let reader = try HDF5ExampleReader(dataset: file.root.dataset("x_train"))
///     let d = LabeledDataset(name: "big", reader: reader, labels: y, classCount: 10)
public struct HDF5ExampleReader: ExampleReader {
  public let dataset: HDF5Dataset
  public let count: Int
  public let exampleShape: [Int]
  public let element: ExampleElement
  public let identity: String

  /// `dataset` must be `[N, …]` uint8 or float; a rank-3 `[N, H, W]` dataset reads as
  /// `[N, H, W, 1]`.
  public init(dataset: HDF5Dataset) throws(AdaError) {
    self.dataset = dataset
    let shape = try dataset.shape()
    guard shape.count >= 2, shape[0] > 0 else {
      throw AdaError(
        .badShape, file: dataset.file.path, path: dataset.path,
        "images should be [N, …] with N > 0, found \(shape)")
    }
    count = shape[0]
    exampleShape = shape.count == 3 ? Array(shape.dropFirst()) + [1] : Array(shape.dropFirst())
    switch try dataset.elementClass() {
    case .integer(bytes: 1, signed: false): element = .uint8
    case .float: element = .float32
    case let other:
      throw AdaError(
        .unsupported, file: dataset.file.path, path: dataset.path,
        "images must be uint8 (0…255) or float32/float64; found \(other)")
    }
    let size = FileStatus.size(dataset.file.path) ?? -1
    let modified = FileStatus.modified(dataset.file.path) ?? 0
    identity = "\(dataset.file.path)|\(dataset.path)|\(shape)|\(element.rawValue)|\(size)|\(modified)"
  }

  public func read(rows: [Int], into buffer: UnsafeMutableRawBufferPointer) throws(AdaError) {
    switch element {
    case .uint8:
      try dataset.readRows(rows, as: UInt8.self, into: buffer)
    case .float32:
      try dataset.readRows(rows, as: Float.self, into: buffer)
      let inner = exampleShape.elementCount
      let values = buffer.bindMemory(to: Float.self)
      for i in 0..<(rows.count * inner) where !values[i].isFinite {
        throw AdaError(
          .nonFinite, file: dataset.file.path, path: dataset.path,
          "image data holds \(values[i]) in row \(rows[i / inner])")
      }
    }
  }
}
