import AdaSearch
import AdaTensor

/// Computes search candidates' validation accuracies somewhere other than this process (a Ray
/// cluster: `RayAccuracyBackend`). Whatever the backend, each value must be the one
/// `SupernetSearchProblem.accuracies` gives here, bit for bit: the search, its front and the
/// bundle do not depend on where candidates were scored.
public protocol AccuracyBackend: Sendable {
  /// One accuracy per genome, in order. Genomes are new to the search (memoised before).
  func accuracies(of genomes: [Genome]) throws(AdaError) -> [Double]
}
