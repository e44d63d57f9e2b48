import AdaTensor
import CHDF5
import Foundation

/// The value of an attribute, decoded: numbers (any integer or float type, as Double) or strings
/// (variable- or fixed-length). `shape` is `[]` for a scalar attribute.
public enum HDF5AttributeValue: Sendable, Equatable {
  case numbers(shape: [Int], values: [Double])
  case strings(shape: [Int], values: [String])
}

extension HDF5Object {
  /// Names of this object's attributes, sorted numeric-aware.
  public func attributeNames() throws(AdaError) -> [String] {
    let names = HDF5NameCollector()
    try HDF5Library.run { () throws(AdaError) in
      try withOpened { (oid) throws(AdaError) in
        var index: hsize_t = 0
        let op: H5A_operator2_t = { _, name, _, data in
          guard let name, let data else { return 0 }
          Unmanaged<HDF5NameCollector>.fromOpaque(data).takeUnretainedValue().list.append(
            String(cString: name))
          return 0
        }
        let status = H5Aiterate2(
          oid, H5_INDEX_NAME, H5_ITER_INC, &index, op, Unmanaged.passUnretained(names).toOpaque())
        guard status >= 0 else {
          throw HDF5Library.failure(.badFormat, file: file.path, path: path, "cannot list attributes")
        }
      }
    }
    return names.list.sorted(by: numericAwareLess)
  }

  /// Whether the attribute `name` exists on this object.
  public func hasAttribute(_ name: String) throws(AdaError) -> Bool {
    try HDF5Library.run { () throws(AdaError) -> Bool in
      try withOpened { (oid) throws(AdaError) -> Bool in H5Aexists(oid, name) > 0 }
    }
  }

  /// Reads and decodes an attribute. Absent → `.missing` naming `path@name`.
  public func readAttribute(_ name: String) throws(AdaError) -> HDF5AttributeValue {
    let location = "\(path)@\(name)"
    return try HDF5Library.run { () throws(AdaError) -> HDF5AttributeValue in
      try withOpened { (oid) throws(AdaError) -> HDF5AttributeValue in
        guard H5Aexists(oid, name) > 0 else {
          _ = HDF5Library.takeErrorMessage()
          throw AdaError(.missing, file: file.path, path: location, "attribute does not exist")
        }
        let attr = HDF5Handle(H5Aopen(oid, name, HDF5Library.defaultList), .attribute)
        let type = HDF5Handle(H5Aget_type(attr.id), .datatype)
        let space = HDF5Handle(H5Aget_space(attr.id), .dataspace)
        guard attr.id >= 0, type.id >= 0, space.id >= 0 else {
          throw HDF5Library.failure(.badFormat, file: file.path, path: location, "cannot open attribute")
        }
        let shape = try HDF5Bounds.shape(space: space.id, file: file.path, path: location)
        let count = shape.elementCount
        // Attribute values live in the file uncompressed (variable-length strings: a reference
        // of at least one byte each).
        let stored = H5Tis_variable_str(type.id) > 0 ? 1 : Int(H5Tget_size(type.id))
        try HDF5Bounds.checkStorage(
          count: count, elementBytes: stored, memoryBytes: max(stored, 8), fileBytes: file.byteCount,
          compressed: false, file: file.path, path: location)
        switch hdf5ElementClass(type.id) {
        case .integer, .float:
          var values = [Double](repeating: 0, count: count)
          if count > 0 {
            let status = values.withUnsafeMutableBytes {
              H5Aread(attr.id, adahdf5_native_double(), $0.baseAddress)
            }
            guard status >= 0 else {
              throw HDF5Library.failure(.badFormat, file: file.path, path: location, "cannot read attribute")
            }
          }
          return .numbers(shape: shape, values: values)
        case .string:
          let values = try readStrings(attr: attr.id, type: type.id, count: count, location: location)
          return .strings(shape: shape, values: values)
        case .other:
          throw AdaError(
            .badFormat, file: file.path, path: location, "attribute is neither numbers nor strings")
        }
      }
    }
  }

  /// Decodes `count` strings of an open string attribute, variable- or fixed-length.
  private func readStrings(attr: hid_t, type: hid_t, count: Int, location: String) throws(AdaError)
    -> [String]
  {
    if count == 0 { return [] }
    if H5Tis_variable_str(type) > 0 {
      try file.checkGlobalHeap()  // HDF5 trusts the heap's sizes (loops or reads past it)
      let memType = HDF5Handle(H5Tcopy(adahdf5_c_s1()), .datatype)
      _ = H5Tset_size(memType.id, adahdf5_variable())
      _ = H5Tset_cset(memType.id, H5Tget_cset(type))
      var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
      let status = pointers.withUnsafeMutableBytes { H5Aread(attr, memType.id, $0.baseAddress) }
      guard status >= 0 else {
        throw HDF5Library.failure(.badFormat, file: file.path, path: location, "cannot read strings")
      }
      defer { for p in pointers where p != nil { H5free_memory(p) } }
      return pointers.map { $0.map { String(cString: $0) } ?? "" }
    }
    let size = Int(H5Tget_size(type))
    guard size > 0 else { return [String](repeating: "", count: count) }
    var bytes = [UInt8](repeating: 0, count: size * count)
    let status = bytes.withUnsafeMutableBytes { H5Aread(attr, type, $0.baseAddress) }
    guard status >= 0 else {
      throw HDF5Library.failure(.badFormat, file: file.path, path: location, "cannot read strings")
    }
    let spacePadded = H5Tget_strpad(type) == H5T_STR_SPACEPAD
    return (0..<count).map { i in
      var chunk = bytes[(i * size)..<((i + 1) * size)]
      if let nul = chunk.firstIndex(of: 0) { chunk = chunk[..<nul] }
      var s = String(decoding: chunk, as: UTF8.self)
      if spacePadded { while s.hasSuffix(" ") { s.removeLast() } }
      return s
    }
  }

  /// A string attribute (scalar, or an array of exactly one string).
  public func readString(attribute name: String) throws(AdaError) -> String {
    switch try readAttribute(name) {
    case .strings(_, let values) where values.count == 1: return values[0]
    case .strings(let shape, _):
      throw AdaError(
        .badFormat, file: file.path, path: "\(path)@\(name)", "expected one string, found shape \(shape)")
    case .numbers:
      throw AdaError(.badFormat, file: file.path, path: "\(path)@\(name)", "expected a string, found numbers")
    }
  }

  /// A string-array attribute. An empty numeric array (how h5py stores an empty list) reads as [].
  public func readStrings(attribute name: String) throws(AdaError) -> [String] {
    switch try readAttribute(name) {
    case .strings(_, let values): return values
    case .numbers(_, let values) where values.isEmpty: return []
    case .numbers:
      throw AdaError(.badFormat, file: file.path, path: "\(path)@\(name)", "expected strings, found numbers")
    }
  }

  /// A numeric attribute, any integer or float type, as Doubles (a scalar gives one value).
  public func readNumbers(attribute name: String) throws(AdaError) -> [Double] {
    switch try readAttribute(name) {
    case .numbers(_, let values): return values
    case .strings:
      throw AdaError(.badFormat, file: file.path, path: "\(path)@\(name)", "expected numbers, found strings")
    }
  }

  /// A string list stored the Keras way: in `name`, or when it was too large for one HDF5
  /// attribute (64 KB), split over `name0`, `name1`, …. Nil when neither form exists.
  public func readSplitStrings(attribute name: String) throws(AdaError) -> [String]? {
    if try hasAttribute(name) { return try readStrings(attribute: name) }
    var out: [String] = []
    var chunk = 0
    while try hasAttribute("\(name)\(chunk)") {
      out += try readStrings(attribute: "\(name)\(chunk)")
      chunk += 1
    }
    return chunk == 0 ? nil : out
  }
}

/// Collects names from HDF5 iteration callbacks.
final class HDF5NameCollector {
  var list: [String] = []
}
