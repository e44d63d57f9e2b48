import AdaTensor
import CHDF5
import Foundation

/// Process-wide access to the HDF5 C library.
///
/// The Debian HDF5 build is not thread-safe, so every call into it goes through `HDF5Library.run`,
/// which holds one global recursive lock. The lock is recursive because wrapper methods call one
/// another while holding it (an attribute read opens a group, then the attribute).
///
///     let n = try HDF5Library.run { () throws(AdaError) -> Int32 in H5Fis_hdf5(path) }
enum HDF5Library {
  /// The one lock around the C library.
  private static let lock: NSRecursiveLock = {
    let l = NSRecursiveLock()
    l.name = "adascale.hdf5"
    return l
  }()

  /// Runs once, under the lock, before the first HDF5 call: initialises the library and stops it
  /// printing its error stack to stderr (adascale reports errors itself).
  private static let initialized: Bool = {
    H5open()
    adahdf5_silence_errors()
    return true
  }()

  /// Runs `body` holding the HDF5 lock.
  static func run<T>(_ body: () throws(AdaError) -> T) throws(AdaError) -> T {
    lock.lock()
    defer { lock.unlock() }
    _ = initialized
    return try body()
  }

  /// Runs a non-throwing `body` holding the HDF5 lock (used by `deinit`s and cleanup).
  static func locked<T>(_ body: () -> T) -> T {
    lock.lock()
    defer { lock.unlock() }
    _ = initialized
    return body()
  }

  static var defaultList: hid_t { adahdf5_p_default() }

  /// The most specific message on HDF5's error stack (e.g. "truncated file: eof = …"), then clears
  /// the stack. Empty when HDF5 recorded nothing. Call with the lock held.
  static func takeErrorMessage() -> String {
    final class Collector { var messages: [String] = [] }
    let collector = Collector()
    let walker: H5E_walk2_t = { _, desc, client in
      guard let desc, let client else { return 0 }
      let c = Unmanaged<Collector>.fromOpaque(client).takeUnretainedValue()
      if let text = desc.pointee.desc {
        let s = String(cString: text).trimmingCharacters(in: .whitespaces)
        if !s.isEmpty { c.messages.append(s) }
      }
      return 0
    }
    let opaque = Unmanaged.passUnretained(collector).toOpaque()
    _ = H5Ewalk2(adahdf5_e_default(), H5E_WALK_DOWNWARD, walker, opaque)
    _ = H5Eclear2(adahdf5_e_default())
    return collector.messages.last ?? ""
  }

  /// An `AdaError` for a failed HDF5 call, with HDF5's own most specific reason appended.
  static func failure(
    _ kind: AdaError.Kind, file: String, path: String?, _ what: String
  ) -> AdaError {
    let reason = takeErrorMessage()
    return AdaError(kind, file: file, path: path, reason.isEmpty ? what : "\(what) (\(reason))")
  }
}

/// Closes an HDF5 identifier when it goes out of scope. Used for short-lived handles inside one
/// locked operation (dataspaces, datatypes, attributes, objects).
struct HDF5Handle: ~Copyable {
  enum Kind { case object, dataspace, datatype, attribute, propertyList }
  let id: hid_t
  let kind: Kind

  init(_ id: hid_t, _ kind: Kind) {
    self.id = id
    self.kind = kind
  }

  deinit {
    guard id >= 0 else { return }
    switch kind {
    case .object: _ = H5Oclose(id)
    case .dataspace: _ = H5Sclose(id)
    case .datatype: _ = H5Tclose(id)
    case .attribute: _ = H5Aclose(id)
    case .propertyList: _ = H5Pclose(id)
    }
  }
}

/// Splits an HDF5 path into its non-empty components (`"/a//b/"` → `["a", "b"]`).
func hdf5PathComponents(_ path: String) -> [String] {
  path.split(separator: "/").map(String.init)
}

/// Joins a group path and a child name without doubling slashes.
func hdf5Join(_ base: String, _ name: String) -> String {
  if base.isEmpty || base == "/" { return name.hasPrefix("/") ? String(name.dropFirst()) : name }
  return base.hasSuffix("/") ? base + name : base + "/" + name
}

/// Orders names as a person would: digit runs compare by value, so `"vars/2"` < `"vars/10"` and
/// `"layer_names2"` < `"layer_names10"`. Used for every listing of group children.
public func numericAwareLess(_ a: String, _ b: String) -> Bool {
  var i = a.unicodeScalars.makeIterator()
  var j = b.unicodeScalars.makeIterator()
  var ca = i.next()
  var cb = j.next()
  while let x = ca, let y = cb {
    let xd = x.properties.numericType == .decimal && x.isASCII
    let yd = y.properties.numericType == .decimal && y.isASCII
    if xd && yd {
      var na = "", nb = ""
      while let c = ca, c.isASCII, c.properties.numericType == .decimal {
        na.unicodeScalars.append(c)
        ca = i.next()
      }
      while let c = cb, c.isASCII, c.properties.numericType == .decimal {
        nb.unicodeScalars.append(c)
        cb = j.next()
      }
      let ta = na.drop { $0 == "0" }, tb = nb.drop { $0 == "0" }
      if ta.count != tb.count { return ta.count < tb.count }
      if ta != tb { return ta < tb }
      if na.count != nb.count { return na.count < nb.count }
      continue
    }
    if x != y { return x.value < y.value }
    ca = i.next()
    cb = j.next()
  }
  return ca == nil && cb != nil
}
