import AdaTensor
import Foundation

/// The pipeline's scratch directory (recipe `output.work-directory`, default
/// `<output>.work`): the trained baseline, supernet and search checkpoints, and the per-op
/// latency table. Rerunning the same recipe resumes from what is there.
public struct WorkDirectory: Sendable {
  public let root: String

  public init(_ root: String, fresh: Bool) throws(AdaError) {
    self.root = root
    do {
      if fresh, FileManager.default.fileExists(atPath: root) {
        try FileManager.default.removeItem(atPath: root)
      }
      try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    } catch {
      throw AdaError(
        .writeFailed, file: root, "cannot prepare the work directory: \(error.localizedDescription)")
    }
  }

  public func path(_ name: String) -> String { (root as NSString).appendingPathComponent(name) }
}
