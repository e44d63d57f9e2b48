import AdaTensor
import CHDF5

/// Something in an HDF5 file that can carry attributes: a group or a dataset.
public protocol HDF5Object: Sendable {
  var file: HDF5File { get }
  /// Absolute path inside the file, `/` for the root.
  var path: String { get }
}

extension HDF5Object {
  /// Opens this object for the duration of `body`, holding the HDF5 lock.
  func withOpened<T>(_ body: (hid_t) throws(AdaError) -> T) throws(AdaError) -> T {
    try HDF5Library.run { () throws(AdaError) -> T in
      let fid = try file.id(at: path)
      let oid = H5Oopen(fid, path, HDF5Library.defaultList)
      guard oid >= 0 else {
        throw HDF5Library.failure(.missing, file: file.path, path: path, "cannot open HDF5 object")
      }
      let handle = HDF5Handle(oid, .object)
      return try body(handle.id)
    }
  }
}

/// What a child of a group is.
public enum HDF5ChildKind: Sendable, Equatable {
  case group, dataset, other
}

/// A group inside an `HDF5File`: a value holding the file and the group's absolute path.
/// Groups are opened per call, so a `HDF5Group` never holds C resources.
///
///     let layers = try file.root.group("layers")
///     for name in try layers.children() { … }   // "dense", "dense_1", "dense_2", "dense_10"
public struct HDF5Group: HDF5Object {
  public let file: HDF5File
  public let path: String

  init(file: HDF5File, path: String) {
    self.file = file
    self.path = path.isEmpty ? "/" : (path.hasPrefix("/") ? path : "/" + path)
  }

  /// Absolute path of a descendant given relative to this group (absolute paths pass through).
  public func absolute(_ relative: String) -> String {
    if relative.hasPrefix("/") { return relative }
    return "/" + hdf5Join(String(path.dropFirst()), relative)
  }

  /// Whether `relative` names an existing group or dataset below this group.
  public func contains(_ relative: String) -> Bool {
    (try? kind(of: relative)) != nil
  }

  /// The kind of the object at `relative`, or nil when nothing is there.
  public func kind(of relative: String) throws(AdaError) -> HDF5ChildKind? {
    let target = absolute(relative)
    return try HDF5Library.run { () throws(AdaError) -> HDF5ChildKind? in
      let fid = try file.id(at: target)
      var prefix = ""
      for part in hdf5PathComponents(target) {
        prefix += "/" + part
        if H5Lexists(fid, prefix, HDF5Library.defaultList) <= 0 {
          _ = HDF5Library.takeErrorMessage()
          return nil
        }
      }
      if prefix.isEmpty { return .group }
      let oid = H5Oopen(fid, prefix, HDF5Library.defaultList)
      guard oid >= 0 else {
        _ = HDF5Library.takeErrorMessage()
        return nil
      }
      let handle = HDF5Handle(oid, .object)
      switch H5Iget_type(handle.id) {
      case H5I_GROUP: return .group
      case H5I_DATASET: return .dataset
      default: return .other
      }
    }
  }

  /// The group at `relative`; `.missing` naming the path when absent, `.badFormat` when the
  /// object there is not a group.
  public func group(_ relative: String) throws(AdaError) -> HDF5Group {
    let target = absolute(relative)
    switch try kind(of: relative) {
    case .group: return HDF5Group(file: file, path: target)
    case nil: throw AdaError(.missing, file: file.path, path: target, "group does not exist")
    default: throw AdaError(.badFormat, file: file.path, path: target, "expected a group, found a dataset")
    }
  }

  /// The dataset at `relative`; `.missing` naming the path when absent.
  public func dataset(_ relative: String) throws(AdaError) -> HDF5Dataset {
    let target = absolute(relative)
    switch try kind(of: relative) {
    case .dataset: return HDF5Dataset(file: file, path: target)
    case nil: throw AdaError(.missing, file: file.path, path: target, "dataset does not exist")
    default: throw AdaError(.badFormat, file: file.path, path: target, "expected a dataset, found a group")
    }
  }

  /// Names of the direct children, sorted numeric-aware (`"2"` before `"10"`).
  public func children() throws(AdaError) -> [String] {
    let names = try HDF5Library.run { () throws(AdaError) -> [String] in
      try withOpened { (gid) throws(AdaError) -> [String] in
        var info = H5G_info_t()
        guard H5Gget_info(gid, &info) >= 0 else {
          throw HDF5Library.failure(.badFormat, file: file.path, path: path, "cannot list group")
        }
        var names: [String] = []
        for i in 0..<info.nlinks {
          let size = H5Lget_name_by_idx(
            gid, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, HDF5Library.defaultList)
          guard size >= 0 else {
            throw HDF5Library.failure(.badFormat, file: file.path, path: path, "cannot read link name")
          }
          var buffer = [CChar](repeating: 0, count: Int(size) + 1)
          _ = H5Lget_name_by_idx(
            gid, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, HDF5Library.defaultList)
          names.append(
            String(decoding: buffer.prefix(Int(size)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
      }
    }
    return names.sorted(by: numericAwareLess)
  }

  /// Children of one kind, sorted numeric-aware.
  public func children(ofKind wanted: HDF5ChildKind) throws(AdaError) -> [String] {
    var out: [String] = []
    for name in try children() where try kind(of: name) == wanted { out.append(name) }
    return out
  }

  /// Every dataset below this group, as paths relative to it, depth-first in sorted order.
  public func walkDatasets() throws(AdaError) -> [String] {
    var out: [String] = []
    for name in try children() {
      switch try kind(of: name) {
      case .dataset: out.append(name)
      case .group: out += try group(name).walkDatasets().map { name + "/" + $0 }
      default: continue
      }
    }
    return out
  }

  /// Creates the group `relative` (and any missing intermediate groups); returns the existing
  /// group when it is already there.
  @discardableResult
  public func createGroup(_ relative: String) throws(AdaError) -> HDF5Group {
    let target = absolute(relative)
    return try HDF5Library.run { () throws(AdaError) -> HDF5Group in
      let fid = try file.id(at: target)
      var prefix = ""
      for part in hdf5PathComponents(target) {
        prefix += "/" + part
        if H5Lexists(fid, prefix, HDF5Library.defaultList) > 0 { continue }
        _ = HDF5Library.takeErrorMessage()
        let gid = H5Gcreate2(
          fid, prefix, HDF5Library.defaultList, HDF5Library.defaultList, HDF5Library.defaultList)
        guard gid >= 0 else {
          throw HDF5Library.failure(.writeFailed, file: file.path, path: prefix, "cannot create group")
        }
        _ = H5Gclose(gid)
      }
      return HDF5Group(file: file, path: target)
    }
  }
}
