import AdaTensor
import Foundation

/// Writes files so that readers see either the old file or the complete new one, never a
/// half-written one: the content goes to `PATH.tmp-<pid>`, which is renamed over `PATH` only
/// after it was written and closed without error. On error the temporary file is removed.
///
///     try AtomicFile.write(to: "out.h5") { (tmp) throws(AdaError) in
///       let f = try HDF5File.create(tmp); …; try f.close()
///     }
public enum AtomicFile {
  /// The temporary name used for `path` by this process.
  public static func temporaryPath(for path: String) -> String {
    "\(path).tmp-\(ProcessInfo.processInfo.processIdentifier)"
  }

  public static func write(to path: String, _ body: (String) throws(AdaError) -> Void) throws(AdaError) {
    let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
    else {
      throw AdaError(.writeFailed, file: path, "directory \(directory) does not exist")
    }
    let temporary = temporaryPath(for: path)
    do {
      try body(temporary)
    } catch {
      try? FileManager.default.removeItem(atPath: temporary)
      var e = error
      if e.file == temporary { e.file = path }  // report the name the caller asked for
      throw e
    }
    guard rename(temporary, path) == 0 else {
      let reason = String(cString: strerror(errno))
      try? FileManager.default.removeItem(atPath: temporary)
      throw AdaError(.writeFailed, file: path, "cannot move the finished file into place: \(reason)")
    }
  }
}
