import AdaTensor
import CHDF5
import Foundation

/// How a string attribute is stored.
public enum HDF5StringStorage: Sendable {
  /// Variable-length UTF-8 (what h5py writes for Python `str`).
  case variableLength
  /// Fixed-length, NUL-padded, one size for all elements (numpy `S` arrays, older Keras files).
  case fixedLength
}

extension HDF5Object {
  /// Largest attribute payload Keras writes in one piece (`HDF5_OBJECT_HEADER_LIMIT`).
  public static var splitAttributeLimit: Int { 64512 }

  /// Writes a numeric attribute, replacing any attribute of that name. `shape` `[]` is a scalar.
  public func writeAttribute<T: HDF5Scalar>(_ name: String, values: [T], shape: [Int]? = nil)
    throws(AdaError)
  {
    let dims = shape ?? [values.count]
    guard dims.elementCount == values.count else {
      throw AdaError(.internalError, file: file.path, path: "\(path)@\(name)", "shape/value count mismatch")
    }
    try createAttribute(name, type: T.hdf5NativeType, shape: dims) { (attr) throws(AdaError) in
      let status = values.withUnsafeBytes { H5Awrite(attr, T.hdf5NativeType, $0.baseAddress) }
      guard status >= 0 else {
        throw HDF5Library.failure(
          .writeFailed, file: file.path, path: "\(path)@\(name)", "cannot write attribute")
      }
    }
  }

  /// Writes a scalar string attribute.
  public func writeAttribute(
    _ name: String, string: String, storage: HDF5StringStorage = .variableLength
  ) throws(AdaError) {
    try writeStrings(name, [string], shape: [], storage: storage)
  }

  /// Writes a one-dimensional string-array attribute.
  public func writeAttribute(
    _ name: String, strings: [String], storage: HDF5StringStorage = .variableLength
  ) throws(AdaError) {
    try writeStrings(name, strings, shape: [strings.count], storage: storage)
  }

  /// Writes a string list the way Keras does (`save_attributes_to_hdf5_group`): as fixed-length
  /// strings in `name`, or, when that would exceed `limit` bytes, split evenly (numpy
  /// `array_split`) over `name0`, `name1`, …. An empty list is an empty float64 array, as h5py
  /// stores `[]`.
  public func writeSplitStrings(_ name: String, _ strings: [String], limit: Int = splitAttributeLimit)
    throws(AdaError)
  {
    if strings.isEmpty {
      try writeAttribute(name, values: [Double](), shape: [0])
      return
    }
    let itemSize = max(1, strings.map { $0.utf8.count }.max() ?? 1)
    guard itemSize <= limit else {
      throw AdaError(
        .writeFailed, file: file.path, path: "\(path)@\(name)",
        "one string is \(itemSize) bytes, more than the \(limit)-byte attribute limit")
    }
    var chunks = 1
    while (strings.count / chunks + (strings.count % chunks == 0 ? 0 : 1)) * itemSize > limit {
      chunks += 1
    }
    if chunks == 1 {
      try writeAttribute(name, strings: strings, storage: .fixedLength)
      return
    }
    var start = 0
    for c in 0..<chunks {
      let size = strings.count / chunks + (c < strings.count % chunks ? 1 : 0)
      try writeAttribute(
        "\(name)\(c)", strings: Array(strings[start..<(start + size)]), storage: .fixedLength)
      start += size
    }
  }

  private func writeStrings(
    _ name: String, _ strings: [String], shape: [Int], storage: HDF5StringStorage
  ) throws(AdaError) {
    let location = "\(path)@\(name)"
    let ascii = strings.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }
    try HDF5Library.run { () throws(AdaError) in
      let type = HDF5Handle(H5Tcopy(adahdf5_c_s1()), .datatype)
      switch storage {
      case .variableLength:
        _ = H5Tset_size(type.id, adahdf5_variable())
        _ = H5Tset_cset(type.id, H5T_CSET_UTF8)
        try createAttribute(name, type: type.id, shape: shape) { (attr) throws(AdaError) in
          let copies = strings.map { strdup($0) }
          defer { copies.forEach { free($0) } }
          let status = copies.withUnsafeBytes { H5Awrite(attr, type.id, $0.baseAddress) }
          guard status >= 0 else {
            throw HDF5Library.failure(.writeFailed, file: file.path, path: location, "cannot write strings")
          }
        }
      case .fixedLength:
        let size = max(1, strings.map { $0.utf8.count }.max() ?? 1)
        _ = H5Tset_size(type.id, size)
        _ = H5Tset_strpad(type.id, H5T_STR_NULLPAD)
        _ = H5Tset_cset(type.id, ascii ? H5T_CSET_ASCII : H5T_CSET_UTF8)
        var bytes = [UInt8](repeating: 0, count: size * strings.count)
        for (i, s) in strings.enumerated() {
          for (j, b) in s.utf8.enumerated() { bytes[i * size + j] = b }
        }
        try createAttribute(name, type: type.id, shape: shape) { (attr) throws(AdaError) in
          let status = bytes.withUnsafeBytes { H5Awrite(attr, type.id, $0.baseAddress) }
          guard status >= 0 else {
            throw HDF5Library.failure(.writeFailed, file: file.path, path: location, "cannot write strings")
          }
        }
      }
    }
  }

  /// Creates attribute `name` (deleting an existing one) with `type` and `shape`, and hands its
  /// identifier to `fill`.
  private func createAttribute(
    _ name: String, type: hid_t, shape: [Int], fill: (hid_t) throws(AdaError) -> Void
  ) throws(AdaError) {
    let location = "\(path)@\(name)"
    try HDF5Library.run { () throws(AdaError) in
      try withOpened { (oid) throws(AdaError) in
        if H5Aexists(oid, name) > 0 { _ = H5Adelete(oid, name) }
        let dims = shape.map { hsize_t($0) }
        let space = HDF5Handle(
          shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil),
          .dataspace)
        let attr = HDF5Handle(
          H5Acreate2(oid, name, type, space.id, HDF5Library.defaultList, HDF5Library.defaultList),
          .attribute)
        guard space.id >= 0, attr.id >= 0 else {
          throw HDF5Library.failure(.writeFailed, file: file.path, path: location, "cannot create attribute")
        }
        try fill(attr.id)
      }
    }
  }
}
