import AdaTensor
import CHDF5

/// A number type HDF5 can store, with its native in-memory HDF5 type.
public protocol HDF5Scalar: Sendable {
  static var hdf5NativeType: hid_t { get }
  static var zero: Self { get }
}

extension Float: HDF5Scalar {
  public static var hdf5NativeType: hid_t { adahdf5_native_float() }
}
extension Double: HDF5Scalar {
  public static var hdf5NativeType: hid_t { adahdf5_native_double() }
}
extension Int8: HDF5Scalar {
  public static var hdf5NativeType: hid_t { adahdf5_native_int8() }
}
extension UInt8: HDF5Scalar {
  public static var hdf5NativeType: hid_t { adahdf5_native_uint8() }
}
extension Int32: HDF5Scalar {
  public static var hdf5NativeType: hid_t { adahdf5_native_int32() }
}
extension Int64: HDF5Scalar {
  public static var hdf5NativeType: hid_t { adahdf5_native_int64() }
}

/// The stored element type of a dataset or attribute, as far as adascale cares.
public enum HDF5ElementClass: Sendable, Equatable {
  case integer(bytes: Int, signed: Bool)
  case float(bytes: Int)
  case string
  case other

  var isNumeric: Bool {
    switch self {
    case .integer, .float: true
    default: false
    }
  }
}

/// Reads the class of an HDF5 datatype (call with the lock held).
func hdf5ElementClass(_ type: hid_t) -> HDF5ElementClass {
  let size = Int(H5Tget_size(type))
  switch H5Tget_class(type) {
  case H5T_INTEGER: return .integer(bytes: size, signed: H5Tget_sign(type) != H5T_SGN_NONE)
  case H5T_FLOAT: return .float(bytes: size)
  case H5T_STRING: return .string
  default: return .other
  }
}

/// A dataset inside an `HDF5File`. Reads convert to the requested type through HDF5's own
/// conversion (e.g. an int64 or float64 dataset read as `Float`).
///
///     let x = try file.root.dataset("x").readTensor()           // any numeric type → Float
///     let (shape, labels) = try file.root.dataset("y").read(Int32.self)
public struct HDF5Dataset: HDF5Object {
  public let file: HDF5File
  public let path: String

  /// Dimensions (`[]` for a scalar dataset).
  public func shape() throws(AdaError) -> [Int] {
    try HDF5Library.run { () throws(AdaError) -> [Int] in
      try withOpened { (did) throws(AdaError) -> [Int] in
        let space = HDF5Handle(H5Dget_space(did), .dataspace)
        let shape = try HDF5Bounds.shape(space: space.id, file: file.path, path: path)
        let type = HDF5Handle(H5Dget_type(did), .datatype)
        try checkStorage(
          did, count: shape.elementCount, elementBytes: Int(H5Tget_size(type.id)), memoryBytes: 0)
        return shape
      }
    }
  }

  /// The stored element type.
  public func elementClass() throws(AdaError) -> HDF5ElementClass {
    try HDF5Library.run { () throws(AdaError) -> HDF5ElementClass in
      try withOpened { (did) throws(AdaError) -> HDF5ElementClass in
        let type = HDF5Handle(H5Dget_type(did), .datatype)
        return hdf5ElementClass(type.id)
      }
    }
  }

  /// All elements, converted to `T`, in row-major order, with the dataset's shape.
  /// A non-numeric dataset is `.badFormat` naming the path.
  public func read<T: HDF5Scalar>(_: T.Type) throws(AdaError) -> (shape: [Int], values: [T]) {
    try HDF5Library.run { () throws(AdaError) -> (shape: [Int], values: [T]) in
      try withOpened { (did) throws(AdaError) -> (shape: [Int], values: [T]) in
        let type = HDF5Handle(H5Dget_type(did), .datatype)
        let elementClass = hdf5ElementClass(type.id)
        guard elementClass.isNumeric else {
          throw AdaError(
            .badFormat, file: file.path, path: path,
            "dataset holds \(elementClass == .string ? "strings" : "non-numeric data"), expected numbers")
        }
        let space = HDF5Handle(H5Dget_space(did), .dataspace)
        let shape = try HDF5Bounds.shape(space: space.id, file: file.path, path: path)
        try checkStorage(
          did, count: shape.elementCount, elementBytes: Int(H5Tget_size(type.id)),
          memoryBytes: MemoryLayout<T>.stride)
        var values = [T](repeating: T.zero, count: shape.elementCount)
        if values.isEmpty { return (shape, values) }
        let status = values.withUnsafeMutableBytes { buffer in
          H5Dread(
            did, T.hdf5NativeType, adahdf5_s_all(), adahdf5_s_all(), HDF5Library.defaultList,
            buffer.baseAddress)
        }
        guard status >= 0 else {
          throw HDF5Library.failure(
            .badFormat, file: file.path, path: path, "cannot read dataset (file truncated or corrupt?)")
        }
        return (shape, values)
      }
    }
  }

  /// Throws unless `count` elements could come from this file (`HDF5Bounds`); a dataset with
  /// filters (compression) may hold more than the file's length (call with the lock held).
  func checkStorage(_ did: hid_t, count: Int, elementBytes: Int, memoryBytes: Int) throws(AdaError) {
    let plist = HDF5Handle(H5Dget_create_plist(did), .propertyList)
    let compressed = plist.id < 0 || H5Pget_nfilters(plist.id) != 0
    try HDF5Bounds.checkStorage(
      count: count, elementBytes: elementBytes, memoryBytes: memoryBytes, fileBytes: file.byteCount,
      compressed: compressed, file: file.path, path: path)
  }

  /// The dataset as a Float32 tensor (any integer or float type is converted).
  public func readTensor() throws(AdaError) -> Tensor {
    let (shape, values) = try read(Float.self)
    return Tensor(shape: shape, scalars: values)
  }
}

extension HDF5Group {
  /// Writes a new dataset `name` (intermediate groups are created) holding `values` with `shape`.
  /// The stored type is `T`'s native type (little-endian on this machine).
  @discardableResult
  public func write<T: HDF5Scalar>(
    dataset name: String, shape: [Int], values: [T]
  ) throws(AdaError) -> HDF5Dataset {
    let target = absolute(name)
    guard shape.elementCount == values.count else {
      throw AdaError(
        .internalError, file: file.path, path: target,
        "shape \(shape) needs \(shape.elementCount) values, got \(values.count)")
    }
    let components = hdf5PathComponents(target)
    if components.count > 1 {
      try createGroup("/" + components.dropLast().joined(separator: "/"))
    }
    return try HDF5Library.run { () throws(AdaError) -> HDF5Dataset in
      let fid = try file.id(at: target)
      let dims = shape.map { hsize_t($0) }
      let space = HDF5Handle(
        shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil),
        .dataspace)
      let did = H5Dcreate2(
        fid, target, T.hdf5NativeType, space.id, HDF5Library.defaultList, HDF5Library.defaultList,
        HDF5Library.defaultList)
      guard did >= 0 else {
        throw HDF5Library.failure(.writeFailed, file: file.path, path: target, "cannot create dataset")
      }
      let dataset = HDF5Handle(did, .object)
      if !values.isEmpty {
        let status = values.withUnsafeBytes { buffer in
          H5Dwrite(
            dataset.id, T.hdf5NativeType, adahdf5_s_all(), adahdf5_s_all(),
            HDF5Library.defaultList, buffer.baseAddress)
        }
        guard status >= 0 else {
          throw HDF5Library.failure(.writeFailed, file: file.path, path: target, "cannot write dataset")
        }
      }
      return HDF5Dataset(file: file, path: target)
    }
  }

  /// Writes a Float32 tensor as a new dataset.
  @discardableResult
  public func write(dataset name: String, tensor: Tensor) throws(AdaError) -> HDF5Dataset {
    try write(dataset: name, shape: tensor.shape, values: tensor.scalars)
  }
}
