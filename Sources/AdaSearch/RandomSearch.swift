import AdaTensor
import Foundation

/// The baseline NSGA-II is measured against: uniformly random genomes (each gene uniform, then
/// `repair`), never the same genome twice, evaluated in batches, the archive's feasible
/// non-dominated set as the front. Same archive, memoisation and reports as `NSGA2`, so results
/// compare directly at an equal number of unique evaluations.
///
///     let baseline = try RandomSearch.run(problem, evaluations: nsga.evaluations, seed: 1)
///     baseline.hypervolume(reference: box) < nsga.hypervolume(reference: box)
public enum RandomSearch {
  /// Consecutive draws that only repeat archived genomes before the space counts as exhausted.
  public static let exhaustionDraws = 200

  /// Evaluates `evaluations` unique random genomes in batches of `batchSize` (the last may be
  /// smaller), reporting each batch as a generation (batch 0 = generation 0). Stops early with
  /// `.spaceExhausted` when no new genome turns up in `exhaustionDraws` draws. `reference` is the
  /// reporting box; nil fits one to the first batch.
  public static func run(
    _ problem: some SearchProblem, evaluations: Int, seed: UInt64, batchSize: Int = 24,
    reference: HypervolumeReference? = nil, progress: (GenerationReport) -> Void = { _ in }
  ) throws(AdaError) -> SearchResult {
    try problem.validateDefinition()
    guard evaluations >= 1 else {
      throw AdaError(.invalidValue, path: "evaluations", "expected at least 1, found \(evaluations)")
    }
    guard batchSize >= 1 else {
      throw AdaError(.invalidValue, path: "batchSize", "expected at least 1, found \(batchSize)")
    }
    try reference?.validate(for: problem.objectives, path: "hypervolumeReference")
    let clock = ContinuousClock()
    let start = clock.now
    let batches = (evaluations + batchSize - 1) / batchSize
    var rng = SeededGenerator(seed: seed)
    var archive = ParetoArchive(objectives: problem.objectives)
    var box = reference
    var history: [GenerationReport] = []
    var stopReason = StopReason.finished
    var batch = 0
    while archive.count < evaluations {
      var genomes: [Genome] = []
      var fresh = Set<Genome>()
      var misses = 0
      while genomes.count < min(batchSize, evaluations - archive.count) && misses < exhaustionDraws {
        let g = try problem.repaired(problem.space.randomGenome(using: &rng))
        if archive.contains(g) || fresh.contains(g) {
          misses += 1
        } else {
          misses = 0
          genomes.append(g)
          fresh.insert(g)
        }
      }
      if genomes.isEmpty {
        stopReason = .spaceExhausted
        break
      }
      _ = try archive.lookUpOrEvaluate(genomes, problem: problem, generation: batch)
      let fitted =
        box ?? HypervolumeReference.fitting(NSGA2.referenceSample(archive), objectives: problem.objectives)
      box = fitted
      let d = clock.now - start
      history.append(
        GenerationReport(
          generation: batch, generations: batches - 1, evaluations: archive.count,
          newEvaluations: genomes.count, frontSize: archive.front.count,
          hypervolume: fitted.hypervolume(archive.frontEntries.map(\.evaluation.objectives)),
          best: archive.bestValues, objectiveNames: problem.objectives.map(\.name),
          elapsedSeconds: Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18))
      progress(history[history.count - 1])
      if misses >= exhaustionDraws {
        stopReason = .spaceExhausted
        break
      }
      batch += 1
    }
    return SearchResult(
      algorithm: "random", space: problem.space, objectives: problem.objectives, archive: archive.entries,
      front: archive.frontEntries, population: [], generations: max(history.count - 1, 0), history: history,
      stopReason: stopReason,
      hypervolumeReference: box ?? HypervolumeReference.fitting([], objectives: problem.objectives))
  }
}
