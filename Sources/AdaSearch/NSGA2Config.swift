import AdaTensor

/// Hyper-parameters of `NSGA2`. Decodes with every field optional except `seed`.
///
///     NSGA2Config(population: 24, generations: 15, seed: 7,
///                 seedGenomes: [largest, smallest])
public struct NSGA2Config: Codable, Hashable, Sendable {
  /// Individuals per generation (μ = λ), at least 4.
  public var population: Int = 24
  /// Generations after the initial population; evaluations ≤ population × (generations + 1).
  public var generations: Int = 15
  /// Wall-clock seconds after which no new generation starts (checked between generations, so
  /// the last one finishes); nil = no limit. Counted over all sessions of a resumed search.
  public var timeBudgetSeconds: Double?
  public var seed: UInt64
  /// Probability that a pair of parents is recombined by uniform crossover (else copied).
  public var crossoverProbability: Double = 0.9
  /// Per-gene probability of mutating to a different choice; nil = 1 / number of genes.
  public var mutationProbability: Double?
  /// Individuals placed in the initial population before the random ones (repaired, and
  /// deduplicated by the archive like any other), e.g. the largest and the smallest configuration.
  public var seedGenomes: [Genome] = []
  /// The box in which progress reports measure hypervolume; nil = fitted to the initial population
  /// (`HypervolumeReference.fitting`).
  public var hypervolumeReference: HypervolumeReference?

  public init(
    population: Int = 24, generations: Int = 15, timeBudgetSeconds: Double? = nil, seed: UInt64,
    crossoverProbability: Double = 0.9, mutationProbability: Double? = nil, seedGenomes: [Genome] = [],
    hypervolumeReference: HypervolumeReference? = nil
  ) {
    self.population = population
    self.generations = generations
    self.timeBudgetSeconds = timeBudgetSeconds
    self.seed = seed
    self.crossoverProbability = crossoverProbability
    self.mutationProbability = mutationProbability
    self.seedGenomes = seedGenomes
    self.hypervolumeReference = hypervolumeReference
  }

  enum CodingKeys: String, CodingKey {
    case population, generations, timeBudgetSeconds, seed, crossoverProbability, mutationProbability
    case seedGenomes, hypervolumeReference
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    seed = try c.decode(UInt64.self, forKey: .seed)
    population = try c.decodeIfPresent(Int.self, forKey: .population) ?? 24
    generations = try c.decodeIfPresent(Int.self, forKey: .generations) ?? 15
    timeBudgetSeconds = try c.decodeIfPresent(Double.self, forKey: .timeBudgetSeconds)
    crossoverProbability = try c.decodeIfPresent(Double.self, forKey: .crossoverProbability) ?? 0.9
    mutationProbability = try c.decodeIfPresent(Double.self, forKey: .mutationProbability)
    seedGenomes = try c.decodeIfPresent([Genome].self, forKey: .seedGenomes) ?? []
    hypervolumeReference = try c.decodeIfPresent(HypervolumeReference.self, forKey: .hypervolumeReference)
  }

  /// The mutation probability in effect for a space of `genes` genes.
  public func effectiveMutationProbability(genes: Int) -> Double {
    mutationProbability ?? 1 / Double(max(genes, 1))
  }

  /// Throws, naming the field, unless every value is usable with `problem`.
  public func validate(for problem: some SearchProblem) throws(AdaError) {
    try problem.validateDefinition()
    guard population >= 4 else {
      throw AdaError(
        .invalidValue, path: "population", "expected at least 4 individuals, found \(population)")
    }
    guard generations >= 0 else {
      throw AdaError(.invalidValue, path: "generations", "expected 0 or more, found \(generations)")
    }
    if let t = timeBudgetSeconds, !(t > 0) {
      throw AdaError(
        .invalidValue, path: "timeBudgetSeconds", "expected a positive number of seconds, found \(t)")
    }
    guard (0...1).contains(crossoverProbability) else {
      throw AdaError(
        .invalidValue, path: "crossoverProbability",
        "expected a probability in [0, 1], found \(crossoverProbability)")
    }
    if let p = mutationProbability, !(0...1).contains(p) {
      throw AdaError(
        .invalidValue, path: "mutationProbability", "expected a probability in [0, 1], found \(p)")
    }
    guard seedGenomes.count <= population else {
      throw AdaError(
        .invalidValue, path: "seedGenomes",
        "\(seedGenomes.count) seed genomes do not fit a population of \(population)")
    }
    for (i, g) in seedGenomes.enumerated() { try problem.space.check(g, what: "seedGenomes[\(i)]") }
    try hypervolumeReference?.validate(for: problem.objectives, path: "hypervolumeReference")
  }
}
