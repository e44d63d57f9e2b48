import AdaTensor
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The pipeline's scratch directory (recipe `output.work-directory`, default
/// `<output>.work`): the trained baseline, supernet and search checkpoints, and the per-op
/// latency table. Rerunning the same recipe resumes from what is there.
///
/// A run holds an exclusive `flock(2)` on `<work>/compress.lock` for as long as it lives, so two
/// runs never write one work directory at once: the second fails at once, naming the first
/// one's pid (written into the lock file). The kernel drops the lock when the holder's process
/// ends, however it ends (kill -9 included), so a dead run never blocks the next one.
public struct WorkDirectory: Sendable {
  public static let lockFileName = "compress.lock"

  public let root: String
  /// Held while any copy of this value lives.
  let lock: WorkDirectoryLock

  public init(_ root: String, fresh: Bool) throws(AdaError) {
    self.root = root
    do {
      try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    } catch {
      throw AdaError(
        .writeFailed, file: root, "cannot prepare the work directory: \(error.localizedDescription)")
    }
    lock = try WorkDirectoryLock(path: (root as NSString).appendingPathComponent(Self.lockFileName))
    removeStaleTemporaries()
    if fresh {
      // Everything but the lock we hold goes.
      let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
      for name in entries where name != Self.lockFileName {
        let item = (root as NSString).appendingPathComponent(name)
        do {
          try FileManager.default.removeItem(atPath: item)
        } catch {
          throw AdaError(
            .writeFailed, file: item,
            "cannot clear the work directory (--fresh): \(error.localizedDescription)")
        }
      }
    }
  }

  public func path(_ name: String) -> String { (root as NSString).appendingPathComponent(name) }

  /// Removes temporary files that runs killed mid-write left (`…tmp-<pid>…`: `AtomicFile`'s and
  /// the checkpoint writer's) when that pid is gone. Holding the lock, no other run writes here.
  func removeStaleTemporaries() {
    let fm = FileManager.default
    guard let walker = fm.enumerator(atPath: root) else { return }
    var stale: [String] = []
    while let relative = walker.nextObject() as? String {
      let name = (relative as NSString).lastPathComponent
      guard let range = name.range(of: ".tmp-"),
        let pid = Int32(name[range.upperBound...].prefix { $0.isNumber }), pid != getpid(),
        kill(pid, 0) != 0, errno == ESRCH
      else { continue }
      stale.append(path(relative))
    }
    for item in stale { try? fm.removeItem(atPath: item) }
  }
}

/// An exclusive, non-blocking `flock` on a file that records the holder's pid; released when
/// the last reference goes (or the process ends).
final class WorkDirectoryLock: Sendable {
  let path: String
  private let fd: Int32

  init(path: String) throws(AdaError) {
    self.path = path
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw AdaError(
        .writeFailed, file: path,
        "cannot create the work directory's lock file: \(String(cString: strerror(errno)))",
        hint: "the work directory must be writable (output.work-directory in the recipe)")
    }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      let busy = errno == EWOULDBLOCK
      let reason = String(cString: strerror(errno))
      let holder = Self.holder(fd)
      close(fd)
      guard busy else {
        throw AdaError(.writeFailed, file: path, "cannot lock the work directory: \(reason)")
      }
      let directory = (path as NSString).deletingLastPathComponent
      throw AdaError(
        .invalidValue, file: directory,
        "the work directory is in use by another adascale compress run (pid \(holder.map(String.init) ?? "unknown"))",
        hint: "wait for that run to finish (or stop it), or give this recipe another output.work-directory")
    }
    self.fd = fd
    // Record our pid for whoever finds the directory locked next (best effort: the lock, not
    // the text, is what excludes).
    let text = Array("\(getpid())\n".utf8)
    _ = ftruncate(fd, 0)
    _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
  }

  deinit { close(fd) }

  /// The pid recorded in the lock file, when it holds one.
  static func holder(_ fd: Int32) -> Int? {
    var buffer = [UInt8](repeating: 0, count: 32)
    let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
    guard n > 0 else { return nil }
    return Int(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
  }
}
