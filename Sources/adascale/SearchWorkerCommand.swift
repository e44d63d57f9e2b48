import AdaPipeline
import AdaSearch
import ArgumentParser
import Foundation

/// `adascale search-worker` (hidden): what a Ray task runs to score search candidates on a node
/// (docs/scale.md). Rebuilds the search's evaluator from files every node sees, checks they
/// hash to the search's identity, scores the genomes exactly as the local search does and
/// prints one JSON line: `{"accuracies":[…],"bits":[…],"identity":"…","load_seconds":…,
/// "score_seconds":…}` (bits: each accuracy's IEEE-754 bit pattern, 16 hex digits; identity: what
/// this node's files hash to).
struct SearchWorkerCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "search-worker",
    abstract: "Score search candidates for a search running elsewhere (a Ray task; docs/scale.md).",
    shouldDisplay: false)

  @Option(help: "The search's recipe (absolute path every node sees).")
  var recipe: String

  @Option(help: "The source model the supernet was built over.")
  var source: String

  @Option(help: "The trained supernet's checkpoint directory.")
  var supernet: String

  @Option(help: "The identity the supernet and data must hash to (from the search; unchecked when absent).")
  var identity: String?

  @Option(help: "Genomes to score, a JSON array of arrays of gene values.")
  var genomes: String

  @Option(help: "Threads scoring candidates (one BLAS thread each; the scores do not depend on it).")
  var workers = 1

  struct Output: Encodable {
    var accuracies: [Double]
    var bits: [String]
    var identity: String
    var loadSeconds: Double
    var scoreSeconds: Double

    enum CodingKeys: String, CodingKey {
      case accuracies, bits, identity
      case loadSeconds = "load_seconds"
      case scoreSeconds = "score_seconds"
    }
  }

  func validate() throws {
    if workers < 1 { throw ValidationError("--workers must be at least 1") }
  }

  func run() throws {
    let parsed: [Genome]
    do {
      parsed = try JSONDecoder().decode([Genome].self, from: Data(genomes.utf8))
    } catch {
      throw ValidationError("--genomes: expected a JSON array of arrays of integers, e.g. [[0,1,2]]")
    }
    let started = Date()
    let worker = try SearchWorker.load(
      SearchWorkerSpec(recipe: recipe, source: source, supernet: supernet, identity: identity))
    let loaded = Date()
    let accuracies = try worker.accuracies(of: parsed, workers: workers)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let out = Output(
      accuracies: accuracies, bits: accuracies.map(RayProtocol.bits),
      identity: SearchWorker.identity(evaluator: worker.evaluator, validation: worker.validation),
      loadSeconds: loaded.timeIntervalSince(started), scoreSeconds: Date().timeIntervalSince(loaded))
    print(String(decoding: try encoder.encode(out), as: UTF8.self))
  }
}
