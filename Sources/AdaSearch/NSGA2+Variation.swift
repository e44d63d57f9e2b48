import AdaTensor

/// Selection, variation and survival of `NSGA2`. Every random draw goes through the one
/// `SeededGenerator` of the run, in a fixed order, so a run is a pure function of its seed.
extension NSGA2 {
  /// Rank (front number under constraint-domination) and crowding distance of each member of a
  /// population, as the binary tournament sees them.
  struct Standing {
    var rank: [Int]
    var crowding: [Double]

    init(_ fitness: [Fitness]) {
      let fronts = Dominance.fronts(fitness)
      rank = Dominance.ranks(fronts, count: fitness.count)
      crowding = [Double](repeating: 0, count: fitness.count)
      let costs = fitness.map(\.costs)
      for front in fronts {
        for (i, d) in zip(front, Dominance.crowdingDistances(costs, front: front)) { crowding[i] = d }
      }
    }

    /// Whether member `a` wins a tournament against `b`: lower rank, then larger crowding distance.
    func beats(_ a: Int, _ b: Int) -> Bool {
      rank[a] != rank[b] ? rank[a] < rank[b] : crowding[a] > crowding[b]
    }
  }

  /// `config.population` children of the current population: parents by binary tournament, a
  /// pair of children per crossover, each child mutated and repaired. A child already in the
  /// archive or among the earlier children is replaced by the next one drawn, up to
  /// `redraws` draws per slot; after that the duplicate is accepted.
  func offspring(
    _ state: NSGA2State, problem: some SearchProblem, rng: inout SeededGenerator
  ) throws(AdaError) -> [Genome] {
    let parents = state.population.map { state.archive.entries[$0].genome }
    let standing = Standing(state.population.map { state.archive.fitness[$0] })
    let cardinalities = problem.space.cardinalities
    let mutation = config.effectiveMutationProbability(genes: cardinalities.count)
    var children: [Genome] = []
    var taken = Set<Genome>()
    var pending: [Genome] = []
    while children.count < config.population {
      var draws = 0
      while true {
        if pending.isEmpty {
          let a = parents[Self.tournament(standing, count: parents.count, rng: &rng)]
          let b = parents[Self.tournament(standing, count: parents.count, rng: &rng)]
          var (x, y) = Self.uniformCrossover(a, b, probability: config.crossoverProbability, rng: &rng)
          Self.mutate(&x, cardinalities: cardinalities, probability: mutation, rng: &rng)
          Self.mutate(&y, cardinalities: cardinalities, probability: mutation, rng: &rng)
          pending = [try problem.repaired(x), try problem.repaired(y)]
        }
        let child = pending.removeFirst()
        draws += 1
        if (!state.archive.contains(child) && !taken.contains(child)) || draws >= Self.redraws {
          children.append(child)
          taken.insert(child)
          break
        }
      }
    }
    return children
  }

  /// Binary tournament: two distinct members drawn uniformly, the better by `Standing.beats`
  /// wins; on a tie the first drawn wins.
  static func tournament(_ standing: Standing, count: Int, rng: inout SeededGenerator) -> Int {
    let a = rng.nextIndex(below: count)
    var b = rng.nextIndex(below: count - 1)
    if b >= a { b += 1 }
    return standing.beats(b, a) ? b : a
  }

  /// With probability `probability`, each gene is swapped between the two parents with
  /// probability ½ (uniform crossover); otherwise the children are copies of the parents.
  static func uniformCrossover(
    _ a: Genome, _ b: Genome, probability: Double, rng: inout SeededGenerator
  ) -> (Genome, Genome) {
    var (x, y) = (a, b)
    guard rng.chance(probability) else { return (x, y) }
    for i in x.values.indices where rng.chance(0.5) {
      swap(&x.values[i], &y.values[i])
    }
    return (x, y)
  }

  /// Each gene with more than one choice changes, with probability `probability`, to a different
  /// choice drawn uniformly. Genes with a single choice draw nothing.
  static func mutate(
    _ genome: inout Genome, cardinalities: [Int], probability: Double, rng: inout SeededGenerator
  ) {
    for (i, n) in cardinalities.enumerated() where n > 1 && rng.chance(probability) {
      var v = rng.nextIndex(below: n - 1)
      if v >= genome.values[i] { v += 1 }
      genome.values[i] = v
    }
  }

  /// (μ+λ) survival: the archive indices in `combined` are sorted into fronts under
  /// constraint-domination; whole fronts are kept while they fit, and the front that does not
  /// fit is cut by decreasing crowding distance (ties keep the earlier member). Returns
  /// `config.population` indices, best front first.
  func survivors(_ combined: [Int], archive: ParetoArchive) -> [Int] {
    let fitness = combined.map { archive.fitness[$0] }
    let costs = fitness.map(\.costs)
    var kept: [Int] = []
    for front in Dominance.fronts(fitness) {
      let room = config.population - kept.count
      if room <= 0 { break }
      if front.count <= room {
        kept += front.map { combined[$0] }
        continue
      }
      let distance = Dominance.crowdingDistances(costs, front: front)
      let order = front.indices.sorted { a, b in
        distance[a] != distance[b] ? distance[a] > distance[b] : a < b
      }
      kept += order.prefix(room).map { combined[front[$0]] }
      break
    }
    return kept
  }
}
