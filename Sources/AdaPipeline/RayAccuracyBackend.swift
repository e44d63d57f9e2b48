import AdaSearch
import AdaTensor
import Foundation

/// Scores search candidates as Ray tasks (docs/scale.md): each task runs `adascale
/// search-worker` for `chunk` genomes on some node, which rebuilds the evaluator from files
/// every node sees (`SearchWorkerSpec`) and computes exactly what the local search would.
/// Results arrive as tasks finish; a task whose worker dies is retried by Ray.
public final class RayAccuracyBackend: AccuracyBackend, @unchecked Sendable {
  public let session: RaySession
  public let spec: SearchWorkerSpec
  /// Genomes per task; 0: as evenly as the tasks in flight allow (one task per slot per batch).
  public let chunk: Int
  private let log: (String) -> Void
  private let executable: String

  public init(
    session: RaySession, spec: SearchWorkerSpec, chunk: Int = 0,
    executable: String = RaySession.executablePath,
    log: @escaping (String) -> Void
  ) {
    self.session = session
    self.spec = spec
    self.chunk = max(0, chunk)
    self.executable = executable
    self.log = log
  }

  public func accuracies(of genomes: [Genome]) throws(AdaError) -> [Double] {
    guard !genomes.isEmpty else { return [] }
    let started = Date()
    var lastReport = Date.distantPast
    var nodes = Set<String>()
    let values = try session.evaluate(argv: [executable] + spec.arguments, genomes: genomes, chunk: chunk) {
      done, total, event in
      if let node = event.node { nodes.insert(node) }
      if Date().timeIntervalSince(lastReport) > 10 || done == total {
        lastReport = Date()
        log(
          String(
            format: "ray: %d/%d candidates scored (%.1f s)", done, total, Date().timeIntervalSince(started)))
      }
    }
    log(
      String(
        format: "ray: %d candidates in %.2f s on %d node%@ (%.2f candidates/s)", genomes.count,
        Date().timeIntervalSince(started), nodes.count, nodes.count == 1 ? "" : "s",
        Double(genomes.count) / max(Date().timeIntervalSince(started), 1e-9)))
    return values
  }
}
