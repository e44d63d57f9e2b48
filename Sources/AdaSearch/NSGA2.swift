import AdaTensor
import Foundation

/// NSGA-II (Deb, Pratap, Agarwal, Meyarivan 2002) over the integer genomes of a `SearchProblem`:
/// fast non-dominated sort and crowding distance under constraint-domination, binary tournament
/// on (rank, crowding), uniform crossover, per-gene mutation, `repair` after every variation,
/// and (μ+λ) elitist survival. Genomes already evaluated are never evaluated again. Deterministic
/// for a seed, and resumable from a checkpoint written after every generation (docs/search.md).
///
///     let result = try NSGA2(config: NSGA2Config(population: 24, generations: 15, seed: 1))
///       .run(problem, checkpoint: "out/search.json", resume: true) { print($0) }
///     for a in result.front { print(problem.space.describe(a.genome), a.evaluation.objectives) }
public struct NSGA2: Sendable {
  public var config: NSGA2Config

  /// How many children are drawn for one offspring slot before a child that duplicates an
  /// archived genome (or an earlier child of the same generation) is accepted anyway.
  public static let redraws = 10

  public init(config: NSGA2Config) { self.config = config }

  /// Runs the search. The initial population (generation 0) is always evaluated; then, before
  /// each generation g = 1…`generations`, the search stops if the time budget is spent or
  /// `stopWhen(g)` is true. After every generation the full state goes to `checkpoint` (written
  /// atomically) and its report to `progress`. With `resume` and an existing checkpoint file, the
  /// search continues where that file left off and ends exactly as an uninterrupted run would;
  /// without `resume` an existing file is overwritten.
  ///
  /// Throws `AdaError` for an invalid config or problem, a failing `evaluate` (or one returning
  /// the wrong number of evaluations or objectives), and a foreign or corrupt checkpoint (naming
  /// the file).
  public func run(
    _ problem: some SearchProblem, checkpoint: String? = nil, resume: Bool = false,
    progress: (GenerationReport) -> Void = { _ in }, stopWhen: ((Int) -> Bool)? = nil
  ) throws(AdaError) -> SearchResult {
    try config.validate(for: problem)
    let fingerprint = SearchCheckpoint.fingerprint(config: config, problem: problem)
    let clock = ContinuousClock()
    let sessionStart = clock.now
    var earlierSeconds = 0.0
    func elapsed() -> Double {
      let d = clock.now - sessionStart
      return earlierSeconds + Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    var state: NSGA2State
    if resume, let path = checkpoint,
      let saved = try SearchCheckpoint.read(path, fingerprint: fingerprint, config: config, problem: problem)
    {
      state = saved
      earlierSeconds = saved.elapsedSeconds
    } else {
      state = try initialState(problem)
      try finishGeneration(
        &state, newEvaluations: state.archive.count, elapsed: elapsed(), checkpoint, fingerprint: fingerprint,
        progress)
    }

    var stopReason = StopReason.finished
    while state.generation < config.generations {
      let next = state.generation + 1
      if let budget = config.timeBudgetSeconds, elapsed() >= budget {
        stopReason = .timeBudget
        break
      }
      if stopWhen?(next) == true {
        stopReason = .stopRequested
        break
      }
      let new = try advance(&state, problem: problem)
      try finishGeneration(
        &state, newEvaluations: new, elapsed: elapsed(), checkpoint, fingerprint: fingerprint, progress)
    }
    return state.result(space: problem.space, stopReason: stopReason)
  }

  /// Generation 0: the seed genomes (repaired), then random repaired genomes, re-drawn a few times
  /// when they repeat an earlier member; all evaluated in one batch.
  func initialState(_ problem: some SearchProblem) throws(AdaError) -> NSGA2State {
    var rng = SeededGenerator(seed: config.seed)
    var genomes: [Genome] = []
    for g in config.seedGenomes { genomes.append(try problem.repaired(g)) }
    var seen = Set(genomes)
    while genomes.count < config.population {
      var candidate = try problem.repaired(problem.space.randomGenome(using: &rng))
      var draws = 1
      while seen.contains(candidate) && draws < Self.redraws {
        candidate = try problem.repaired(problem.space.randomGenome(using: &rng))
        draws += 1
      }
      seen.insert(candidate)
      genomes.append(candidate)
    }
    var archive = ParetoArchive(objectives: problem.objectives)
    let (population, _) = try archive.lookUpOrEvaluate(genomes, problem: problem, generation: 0)
    let reference =
      config.hypervolumeReference
      ?? HypervolumeReference.fitting(
        Self.referenceSample(archive), objectives: problem.objectives)
    return NSGA2State(
      generation: 0, rng: rng, archive: archive, population: population, history: [],
      reference: reference, elapsedSeconds: 0)
  }

  /// The values a fitted reference box is computed from: the feasible entries, or all of them
  /// when none is feasible.
  static func referenceSample(_ archive: ParetoArchive) -> [[Double]] {
    let feasible = archive.entries.filter(\.evaluation.isFeasible)
    return (feasible.isEmpty ? archive.entries : feasible).map(\.evaluation.objectives)
  }

  /// One generation: selection and variation make `population` children, the new ones are
  /// evaluated, and the best `population` of parents ∪ children survive. Returns the number of
  /// new evaluations.
  func advance(_ state: inout NSGA2State, problem: some SearchProblem) throws(AdaError) -> Int {
    let generation = state.generation + 1
    let children = try offspring(state, problem: problem, rng: &state.rng)
    let (childIndices, new) = try state.archive.lookUpOrEvaluate(
      children, problem: problem, generation: generation)
    state.population = survivors(state.population + childIndices, archive: state.archive)
    state.generation = generation
    return new
  }

  /// Appends the report of the generation just finished, writes the checkpoint, reports progress.
  func finishGeneration(
    _ state: inout NSGA2State, newEvaluations: Int, elapsed: Double, _ checkpoint: String?,
    fingerprint: String, _ progress: (GenerationReport) -> Void
  ) throws(AdaError) {
    let report = state.report(
      generations: config.generations, newEvaluations: newEvaluations, elapsed: elapsed)
    state.history.append(report)
    state.elapsedSeconds = elapsed
    if let checkpoint {
      try SearchCheckpoint.write(state, to: checkpoint, fingerprint: fingerprint)
    }
    progress(report)
  }
}

/// Everything an NSGA-II run carries from one generation to the next (and into a checkpoint).
/// Ranks and crowding distances are not state: they are recomputed from the population.
struct NSGA2State: Sendable {
  /// The last finished generation.
  var generation: Int
  var rng: SeededGenerator
  var archive: ParetoArchive
  /// Archive indices of the current population.
  var population: [Int]
  var history: [GenerationReport]
  var reference: HypervolumeReference
  /// Seconds spent up to the last finished generation, over all sessions.
  var elapsedSeconds: Double

  func report(generations: Int, newEvaluations: Int, elapsed: Double) -> GenerationReport {
    GenerationReport(
      generation: generation, generations: generations, evaluations: archive.count,
      newEvaluations: newEvaluations, frontSize: archive.front.count,
      hypervolume: reference.hypervolume(archive.frontEntries.map(\.evaluation.objectives)),
      best: archive.bestValues, objectiveNames: archive.objectives.map(\.name), elapsedSeconds: elapsed)
  }

  func result(space: SearchSpace, stopReason: StopReason) -> SearchResult {
    SearchResult(
      algorithm: "nsga2", space: space, objectives: archive.objectives, archive: archive.entries,
      front: archive.frontEntries, population: population.map { archive.entries[$0] },
      generations: generation, history: history, stopReason: stopReason, hypervolumeReference: reference)
  }
}
