import AdaTensor
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What `stat(2)` says of a path, through symbolic links. (Foundation's `attributesOfItem`
/// describes the link itself on Linux: a linked model's "size" was the length of its target's
/// name, and every size the file stated was then held to that.)
public enum FileStatus {
  /// The size in bytes of the file `path` names; nil when it cannot be stat'ed.
  public static func size(_ path: String) -> Int? {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : nil
  }

  /// The last modification time of the file `path` names, in seconds since 1970; nil when it
  /// cannot be stat'ed.
  public static func modified(_ path: String) -> Double? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
  }

  /// Throws `.badFormat` naming `path` when it names a pipe, a socket or a device: reading one
  /// can block for ever (a pipe no one writes to) and the readers seek. Nothing when `path`
  /// cannot be stat'ed or is a directory: the caller's own checks name those.
  public static func requireRegularOrDirectory(_ path: String) throws(AdaError) {
    var info = stat()
    guard stat(path, &info) == 0 else { return }
    let kind = info.st_mode & S_IFMT
    guard kind != S_IFREG, kind != S_IFDIR else { return }
    throw AdaError(
      .badFormat, file: path,
      "is not a regular file (a pipe, socket or device): the file is read by seeking in it",
      hint: "save it to a file first")
  }
}
