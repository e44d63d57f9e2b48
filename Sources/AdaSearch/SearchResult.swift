import Foundation

/// Why a search ended.
public enum StopReason: String, Codable, Hashable, Sendable {
  /// All configured generations (or evaluations) ran.
  case finished
  /// The time budget was used up (checked between generations only).
  case timeBudget
  /// `stopWhen` asked to stop.
  case stopRequested
  /// Random search: the space ran out of new genomes.
  case spaceExhausted
}

/// What one generation (NSGA-II) or batch (random search) achieved, cumulative over the search.
///
///     generation 3/15: 72 evaluated, front 9, hypervolume 0.6123, best accuracy 0.8912, best latency_ms 0.031
public struct GenerationReport: Codable, Hashable, Sendable, CustomStringConvertible {
  /// 0 is the initial population (or the first random batch).
  public var generation: Int
  /// The configured number of generations (batches for random search), for "3/15".
  public var generations: Int
  /// Unique genomes evaluated so far.
  public var evaluations: Int
  /// Unique genomes evaluated in this generation.
  public var newEvaluations: Int
  /// Size of the feasible non-dominated front of everything evaluated so far.
  public var frontSize: Int
  /// Normalised hypervolume of that front (`SearchResult.hypervolumeReference`).
  public var hypervolume: Double
  /// Best feasible value per objective so far, in problem units; nil while nothing is feasible.
  public var best: [Double]?
  public var objectiveNames: [String]
  /// Wall-clock seconds since the search started, including earlier sessions of a resumed search.
  public var elapsedSeconds: Double

  public init(
    generation: Int, generations: Int, evaluations: Int, newEvaluations: Int, frontSize: Int,
    hypervolume: Double, best: [Double]?, objectiveNames: [String], elapsedSeconds: Double
  ) {
    self.generation = generation
    self.generations = generations
    self.evaluations = evaluations
    self.newEvaluations = newEvaluations
    self.frontSize = frontSize
    self.hypervolume = hypervolume
    self.best = best
    self.objectiveNames = objectiveNames
    self.elapsedSeconds = elapsedSeconds
  }

  public var description: String {
    var s = "generation \(generation)/\(generations): \(evaluations) evaluated, front \(frontSize), "
    s += "hypervolume " + String(format: "%.4f", hypervolume)
    if let best {
      for (name, value) in zip(objectiveNames, best) {
        s += ", best \(name) " + String(format: "%.4g", value)
      }
    } else {
      s += ", nothing feasible yet"
    }
    return s
  }

  /// The report without its wall-clock time: what must agree between an interrupted-and-resumed
  /// search and an uninterrupted one.
  public var withoutTiming: GenerationReport {
    var r = self
    r.elapsedSeconds = 0
    return r
  }
}

/// The outcome of a search.
public struct SearchResult: Codable, Hashable, Sendable {
  /// "nsga2" or "random".
  public var algorithm: String
  public var space: SearchSpace
  public var objectives: [Objective]
  /// Every unique genome evaluated, with its evaluation, in evaluation order.
  public var archive: [Archived]
  /// The feasible non-dominated subset of the archive, in archive order; empty when nothing
  /// evaluated was feasible.
  public var front: [Archived]
  /// NSGA-II: the final population (duplicates possible); random search: empty.
  public var population: [Archived]
  /// Generations completed after the initial population (random search: batches after the first).
  public var generations: Int
  /// Unique evaluations (= archive.count).
  public var evaluations: Int
  public var history: [GenerationReport]
  public var completed: Bool
  public var stopReason: StopReason
  /// The box the reports' hypervolumes were computed in (configured, or fitted to the first
  /// generation).
  public var hypervolumeReference: HypervolumeReference

  public init(
    algorithm: String, space: SearchSpace, objectives: [Objective], archive: [Archived], front: [Archived],
    population: [Archived], generations: Int, history: [GenerationReport], stopReason: StopReason,
    hypervolumeReference: HypervolumeReference
  ) {
    self.algorithm = algorithm
    self.space = space
    self.objectives = objectives
    self.archive = archive
    self.front = front
    self.population = population
    self.generations = generations
    self.evaluations = archive.count
    self.history = history
    self.completed = stopReason == .finished
    self.stopReason = stopReason
    self.hypervolumeReference = hypervolumeReference
  }

  /// Normalised hypervolume of the front in `reference` (problem units, directions handled; see
  /// `HypervolumeReference`).
  public func hypervolume(reference: HypervolumeReference) -> Double {
    reference.hypervolume(front.map(\.evaluation.objectives))
  }

  /// Normalised hypervolume of the front in the box the search reported with.
  public func hypervolume() -> Double { hypervolume(reference: hypervolumeReference) }

  /// The front sorted by one objective, best first (ties keep archive order).
  public func front(sortedBy objective: String) -> [Archived] {
    guard let k = objectives.firstIndex(where: { $0.name == objective }) else { return front }
    let o = objectives[k]
    return front.enumerated().sorted { a, b in
      let (x, y) = (a.element.evaluation.objectives[k], b.element.evaluation.objectives[k])
      return x != y ? o.prefers(x, over: y) : a.offset < b.offset
    }.map(\.element)
  }

  /// The result without wall-clock times (see `GenerationReport.withoutTiming`).
  public var withoutTiming: SearchResult {
    var r = self
    r.history = history.map(\.withoutTiming)
    return r
  }
}
