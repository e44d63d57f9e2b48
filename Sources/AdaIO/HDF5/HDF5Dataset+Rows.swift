import AdaTensor
import CHDF5

extension HDF5Dataset {
  /// Reads the given rows (indices along the first axis, ascending and distinct), converted to
  /// `T`, into `buffer`, one row after another — a hyperslab read, so only those rows come off
  /// the disk (for a chunked dataset, the chunks holding them). Runs of consecutive rows become
  /// one block of the selection.
  ///
  ///     try d.readRows([3, 4, 9], as: UInt8.self, into: buffer)   // 3 rows of d
  public func readRows<T: HDF5Scalar>(
    _ rows: [Int], as _: T.Type, into buffer: UnsafeMutableRawBufferPointer
  ) throws(AdaError) {
    if rows.isEmpty { return }
    try HDF5Library.run { () throws(AdaError) in
      try withOpened { (did) throws(AdaError) in
        let fileSpace = HDF5Handle(H5Dget_space(did), .dataspace)
        let shape = try HDF5Bounds.shape(space: fileSpace.id, file: file.path, path: path)
        guard !shape.isEmpty else {
          throw AdaError(.badShape, file: file.path, path: path, "a scalar dataset has no rows")
        }
        let inner = Array(shape.dropFirst())
        guard buffer.count >= rows.count * inner.elementCount * MemoryLayout<T>.stride else {
          throw AdaError(.internalError, file: file.path, path: path, "row buffer too small")
        }
        var first = true
        var k = 0
        while k < rows.count {
          var end = k + 1
          while end < rows.count && rows[end] == rows[end - 1] + 1 { end += 1 }
          guard rows[k] >= 0, rows[end - 1] < shape[0], end == rows.count || rows[end] > rows[end - 1] else {
            throw AdaError(
              .internalError, file: file.path, path: path,
              "rows must be ascending in 0..<\(shape[0]), found \(rows[k]) … \(rows[end - 1])")
          }
          let start = [hsize_t(rows[k])] + inner.map { _ in hsize_t(0) }
          let count = [hsize_t(end - k)] + inner.map { hsize_t($0) }
          let status = H5Sselect_hyperslab(
            fileSpace.id, first ? H5S_SELECT_SET : H5S_SELECT_OR, start, nil, count, nil)
          guard status >= 0 else {
            throw HDF5Library.failure(.badFormat, file: file.path, path: path, "cannot select rows")
          }
          first = false
          k = end
        }
        let memoryDims = [hsize_t(rows.count)] + inner.map { hsize_t($0) }
        let memorySpace = HDF5Handle(H5Screate_simple(Int32(memoryDims.count), memoryDims, nil), .dataspace)
        let status = H5Dread(
          did, T.hdf5NativeType, memorySpace.id, fileSpace.id, HDF5Library.defaultList, buffer.baseAddress)
        guard status >= 0 else {
          throw HDF5Library.failure(
            .badFormat, file: file.path, path: path,
            "cannot read rows \(rows.first!)…\(rows.last!) (file truncated or corrupt?)")
        }
      }
    }
  }
}
