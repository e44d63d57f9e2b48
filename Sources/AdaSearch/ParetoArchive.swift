import AdaTensor

/// One evaluated genome, as kept in the archive.
public struct Archived: Codable, Hashable, Sendable {
  public var genome: Genome
  public var evaluation: Evaluation
  /// The generation (or random-search batch) in which it was first evaluated; 0 = initial.
  public var generation: Int

  public init(genome: Genome, evaluation: Evaluation, generation: Int) {
    self.genome = genome
    self.evaluation = evaluation
    self.generation = generation
  }
}

/// Every unique genome evaluated so far, in evaluation order, with a lookup so nothing is
/// evaluated twice, and the feasible non-dominated front kept up to date as entries arrive.
///
/// The front is maintained incrementally: a new feasible entry that some front member dominates
/// is left out (anything it would lose to is dominated, by transitivity, by a front member);
/// otherwise the members it dominates leave and it joins. The result equals
/// `Dominance.feasibleNonDominated` over the whole archive (tested).
struct ParetoArchive: Sendable {
  let objectives: [Objective]
  private(set) var entries: [Archived] = []
  private(set) var fitness: [Fitness] = []
  /// Archive indices of the front, kept in increasing order.
  private(set) var front: [Int] = []
  private var index: [Genome: Int] = [:]

  init(objectives: [Objective]) { self.objectives = objectives }

  /// Rebuilds the lookup and the front from stored entries (a checkpoint).
  init(objectives: [Objective], entries: [Archived]) {
    self.init(objectives: objectives)
    for e in entries { append(e) }
  }

  var count: Int { entries.count }

  func position(of genome: Genome) -> Int? { index[genome] }

  func contains(_ genome: Genome) -> Bool { index[genome] != nil }

  /// Adds a genome that is not in the archive yet; returns its index.
  @discardableResult
  mutating func append(_ entry: Archived) -> Int {
    precondition(index[entry.genome] == nil, "genome \(entry.genome) is already archived")
    let i = entries.count
    let f = Fitness(entry.evaluation, objectives: objectives)
    entries.append(entry)
    fitness.append(f)
    index[entry.genome] = i
    if f.isFeasible && !front.contains(where: { fitness[$0].dominates(f) }) {
      front.removeAll { f.dominates(fitness[$0]) }
      front.append(i)  // i is the largest index, so the order stays increasing
    }
    return i
  }

  /// The archive indices of `genomes`, evaluating (in one batch, in first-appearance order) those
  /// not archived yet. Returns the indices and how many genomes were newly evaluated.
  mutating func lookUpOrEvaluate(
    _ genomes: [Genome], problem: some SearchProblem, generation: Int
  ) throws(AdaError) -> (indices: [Int], new: Int) {
    var fresh: [Genome] = []
    var freshSet = Set<Genome>()
    for g in genomes where index[g] == nil && freshSet.insert(g).inserted { fresh.append(g) }
    let evaluations = try problem.checkedEvaluate(fresh)
    for (g, e) in zip(fresh, evaluations) {
      append(Archived(genome: g, evaluation: e, generation: generation))
    }
    return (genomes.map { index[$0]! }, fresh.count)
  }

  /// Best value per objective (problem units) over the feasible entries; nil when none is feasible.
  /// Every best value is attained on the front, so the front suffices.
  var bestValues: [Double]? {
    guard !front.isEmpty else { return nil }
    return objectives.indices.map { k in
      let values = front.map { entries[$0].evaluation.objectives[k] }
      return objectives[k].direction == .minimize ? values.min()! : values.max()!
    }
  }

  var frontEntries: [Archived] { front.map { entries[$0] } }
}
