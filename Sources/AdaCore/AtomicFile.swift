import AdaTensor
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes files so that readers see either the old file or the complete new one, never a
/// half-written one: the content goes to `PATH.tmp-<pid>`, which is renamed over `PATH` only
/// after it was written and closed without error. On error the temporary file is removed.
///
///     try AtomicFile.write(to: "out.h5") { (tmp) throws(AdaError) in
///       let f = try HDF5File.createInMemory(tmp); …; try f.close()
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

  /// Writes `data` to `path` atomically; an error names `path`, says what the file is (`what`,
  /// e.g. "the latency cache") and gives the system's reason (e.g. "File too large").
  public static func write(_ data: Data, to path: String, what: String) throws(AdaError) {
    try write(to: path) { (temporary) throws(AdaError) in
      try writeBytes(data, to: temporary, what: what)
    }
  }

  /// Creates or truncates `path` and writes `data` with write(2) (not atomic: for files inside a
  /// directory that is itself moved into place). Errors carry the system's reason
  /// (`strerror`), e.g. "File too large" past a file-size limit, "No space left on device".
  public static func writeBytes(_ data: Data, to path: String, what: String = "the file") throws(AdaError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw AdaError(.writeFailed, file: path, "cannot create \(what): \(String(cString: strerror(errno)))")
    }
    var failure: Int32 = 0
    data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
      var done = 0
      while done < bytes.count {
        let n = posixWrite(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 {
          if errno == EINTR { continue }
          failure = errno
          return
        }
        done += n
      }
    }
    if close(fd) != 0 && failure == 0 { failure = errno }
    guard failure == 0 else {
      throw AdaError(.writeFailed, file: path, "cannot write \(what): \(String(cString: strerror(failure)))")
    }
  }
}

private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
