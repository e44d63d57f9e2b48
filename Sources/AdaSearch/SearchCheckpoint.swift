import AdaCore
import AdaTensor
import Foundation

/// The NSGA-II checkpoint: one JSON file (sorted keys) holding everything a run carries between
/// generations, written atomically after every generation (`AtomicFile`), so a killed search
/// leaves either the previous or the new file.
///
///     {"archive": [{"evaluation": {...}, "generation": 0, "genome": [2, 0, 1]}, …],
///      "elapsedSeconds": 12.5, "fingerprint": "9f3c…", "format": "adascale-search-checkpoint",
///      "generation": 3, "history": […], "hypervolumeReference": {...}, "population": [0, 7, …],
///      "rngState": "1234567890123", "version": 1}
///
/// `population` holds archive indices. `fingerprint` hashes what determines the trajectory (the
/// search space, the objectives and the config without `generations` and `timeBudgetSeconds`,
/// which may be raised on resume to extend a search); a checkpoint of another search is refused.
struct SearchCheckpoint: Codable {
  static let formatName = "adascale-search-checkpoint"
  static let currentVersion = 1

  var format = SearchCheckpoint.formatName
  var version = SearchCheckpoint.currentVersion
  var fingerprint: String
  var generation: Int
  /// `SeededGenerator.state` as a decimal string: JSON numbers do not carry every UInt64 exactly.
  var rngState: String
  var population: [Int]
  var archive: [Archived]
  var history: [GenerationReport]
  var hypervolumeReference: HypervolumeReference
  var elapsedSeconds: Double

  /// What the fingerprint covers.
  private struct Identity: Encodable {
    var space: SearchSpace
    var objectives: [Objective]
    var population: Int
    var seed: String
    var crossoverProbability: Double
    var mutationProbability: Double
    var seedGenomes: [Genome]
    var hypervolumeReference: HypervolumeReference?
  }

  /// 16 hex digits of FNV-1a over the canonical JSON of the search's identity.
  static func fingerprint(config: NSGA2Config, problem: some SearchProblem) -> String {
    let identity = Identity(
      space: problem.space, objectives: problem.objectives, population: config.population,
      seed: String(config.seed), crossoverProbability: config.crossoverProbability,
      mutationProbability: config.effectiveMutationProbability(genes: problem.space.genes.count),
      seedGenomes: config.seedGenomes, hypervolumeReference: config.hypervolumeReference)
    let data = (try? encoder().encode(identity)) ?? Data()
    return StableHasher.hex(bytes: data)
  }

  static func encoder() -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    return e
  }

  static func write(_ state: NSGA2State, to path: String, fingerprint: String) throws(AdaError) {
    let file = SearchCheckpoint(
      fingerprint: fingerprint, generation: state.generation, rngState: String(state.rng.state),
      population: state.population, archive: state.archive.entries, history: state.history,
      hypervolumeReference: state.reference, elapsedSeconds: state.elapsedSeconds)
    let data: Data
    do {
      data = try encoder().encode(file)
    } catch {
      throw AdaError(.internalError, file: path, "cannot encode the search checkpoint: \(error)")
    }
    let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw AdaError(.writeFailed, file: directory, "cannot create the checkpoint directory: \(error)")
    }
    try AtomicFile.write(data, to: path, what: "the search checkpoint")
  }

  /// The state saved in `path`, or nil when there is no such file. Throws, naming the file, when
  /// it is unreadable, truncated, inconsistent, or belongs to another search.
  static func read(
    _ path: String, fingerprint: String, config: NSGA2Config, problem: some SearchProblem
  ) throws(AdaError) -> NSGA2State? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw AdaError(.fileNotFound, file: path, "cannot read the search checkpoint")
    }
    let file: SearchCheckpoint
    do {
      file = try JSONDecoder().decode(SearchCheckpoint.self, from: data)
    } catch {
      throw AdaError(
        .badFormat, file: path, "not a readable search checkpoint (truncated or corrupt): \(summary(error))",
        hint: "delete the file to start the search afresh")
    }
    guard file.format == formatName, file.version == currentVersion else {
      throw AdaError(
        .badFormat, file: path,
        "expected a \(formatName) version \(currentVersion), found \(file.format) version \(file.version)")
    }
    guard file.fingerprint == fingerprint else {
      throw AdaError(
        .invalidValue, file: path,
        "the checkpoint belongs to a different search (fingerprint \(file.fingerprint), this search "
          + "\(fingerprint)): the space, objectives, seed, population or operators differ",
        hint: "use another checkpoint path, or delete the file to start afresh")
    }
    do {
      return try file.state(config: config, problem: problem)
    } catch {
      throw AdaError(
        .badFormat, file: path, path: error.path, "inconsistent search checkpoint: \(error.message)")
    }
  }

  /// The state, after checking that the parts agree with each other and with the problem.
  private func state(config: NSGA2Config, problem: some SearchProblem) throws(AdaError) -> NSGA2State {
    guard let rngValue = UInt64(rngState) else {
      throw AdaError(.badFormat, path: "rngState", "expected a decimal UInt64, found '\(rngState)'")
    }
    guard generation >= 0, history.count == generation + 1 else {
      throw AdaError(
        .badFormat, path: "history",
        "generation \(generation) needs \(generation + 1) reports, found \(history.count)")
    }
    var seen = Set<Genome>()
    for (i, a) in archive.enumerated() {
      try problem.space.check(a.genome, what: "archive[\(i)].genome")
      guard seen.insert(a.genome).inserted else {
        throw AdaError(.badFormat, path: "archive[\(i)]", "genome \(a.genome) appears twice")
      }
      guard a.evaluation.objectives.count == problem.objectives.count else {
        throw AdaError(
          .badFormat, path: "archive[\(i)].evaluation",
          "expected \(problem.objectives.count) objective values, found \(a.evaluation.objectives.count)")
      }
    }
    guard population.count == config.population, population.allSatisfy({ archive.indices.contains($0) })
    else {
      throw AdaError(
        .badFormat, path: "population",
        "expected \(config.population) indices into an archive of \(archive.count)")
    }
    try hypervolumeReference.validate(for: problem.objectives, path: "hypervolumeReference")
    return NSGA2State(
      generation: generation, rng: SeededGenerator(seed: rngValue),
      archive: ParetoArchive(objectives: problem.objectives, entries: archive), population: population,
      history: history, reference: hypervolumeReference, elapsedSeconds: elapsedSeconds)
  }

  /// A one-line reason from a decoding error.
  private static func summary(_ error: any Error) -> String {
    guard let e = error as? DecodingError else { return "\(error)" }
    switch e {
    case .dataCorrupted(let c): return c.debugDescription
    case .keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
    case .typeMismatch(_, let c), .valueNotFound(_, let c):
      return "\(c.debugDescription) at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
    @unknown default: return "\(e)"
    }
  }
}
