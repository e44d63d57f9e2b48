import AdaTensor
import CHDF5
import Foundation

/// What a file may make adascale allocate. Every dimension, count and size an HDF5 file states
/// is checked here before a buffer is made for it, so a damaged or hostile file is an error
/// naming the file and the HDF5 path, never a trap on overflow or a failed allocation:
/// - a dataspace has at most 32 dimensions (HDF5's own limit), each and their product an `Int`;
/// - `count` elements of `elementBytes` stored bytes fit in the file: at most its length in
///   bytes, times 1032 (deflate's largest ratio) for a filtered (compressed) dataset;
/// - and in this machine's memory.
enum HDF5Bounds {
  static let maxRank = 32
  /// zlib's deflate cannot compress by more than about 1032:1.
  static let maxCompressionRatio = 1032

  /// The dimensions of `space`, checked (call with the HDF5 lock held). `[]` for a scalar.
  static func shape(space: hid_t, file: String, path: String) throws(AdaError) -> [Int] {
    let rank = Int(H5Sget_simple_extent_ndims(space))
    guard rank >= 0 else {
      throw HDF5Library.failure(.badFormat, file: file, path: path, "cannot read the dataspace")
    }
    guard rank <= maxRank else {
      throw AdaError(.badFormat, file: file, path: path, "rank \(rank) is more than HDF5's \(maxRank)")
    }
    guard rank > 0 else { return [] }
    var dims = [hsize_t](repeating: 0, count: rank)
    guard H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else {
      throw HDF5Library.failure(.badFormat, file: file, path: path, "cannot read the dimensions")
    }
    var count = 1
    for d in dims {
      guard let n = Int(exactly: d) else {
        throw AdaError(.badFormat, file: file, path: path, "dimension \(d) of \(dims) is out of range")
      }
      let (product, overflow) = count.multipliedReportingOverflow(by: n)
      guard !overflow else {
        throw AdaError(
          .badFormat, file: file, path: path, "shape \(dims) has more elements than can be counted")
      }
      count = product
    }
    return dims.map { Int($0) }
  }

  /// Throws unless `count` elements, `elementBytes` each as stored (`memoryBytes` each once
  /// read), could come from a file of `fileBytes` bytes and fit in memory.
  static func checkStorage(
    count: Int, elementBytes: Int, memoryBytes: Int, fileBytes: Int, compressed: Bool, file: String,
    path: String
  ) throws(AdaError) {
    let (stored, o1) = count.multipliedReportingOverflow(by: max(elementBytes, 1))
    let (needed, o2) = count.multipliedReportingOverflow(by: max(memoryBytes, 1))
    let ratio = compressed ? maxCompressionRatio : 1
    let (limit, o3) = fileBytes.multipliedReportingOverflow(by: ratio)
    guard !o1, !o2, o3 || stored <= limit else {
      throw AdaError(
        .badFormat, file: file, path: path,
        "\(count) elements of \(elementBytes) bytes need \(o1 ? "more than \(Int.max)" : String(stored)) bytes, "
          + "more than the \(fileBytes)-byte file can hold\(compressed ? " even compressed \(ratio):1" : "")"
          + "; the file is truncated or corrupt")
    }
    let memory = ProcessInfo.processInfo.physicalMemory
    guard UInt64(needed) <= memory else {
      throw AdaError(
        .badFormat, file: file, path: path,
        "\(count) elements need \(needed) bytes, more than this machine's \(memory) bytes of memory")
    }
  }
}
