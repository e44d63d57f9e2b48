import AdaTensor

/// One quantity the search optimises, in the problem's own units.
public struct Objective: Codable, Hashable, Sendable {
  public enum Direction: String, Codable, Hashable, Sendable {
    case minimize, maximize
  }

  public var name: String
  public var direction: Direction

  public init(name: String, direction: Direction) {
    self.name = name
    self.direction = direction
  }

  public static func minimize(_ name: String) -> Objective { Objective(name: name, direction: .minimize) }
  public static func maximize(_ name: String) -> Objective { Objective(name: name, direction: .maximize) }

  /// The value as a cost (smaller is better): negated for a maximised objective.
  public func cost(_ value: Double) -> Double { direction == .minimize ? value : -value }

  /// Whether `a` is strictly better than `b` for this objective.
  public func prefers(_ a: Double, over b: Double) -> Bool { cost(a) < cost(b) }
}

/// What a problem says about one genome: one value per objective (problem units, same order as
/// `SearchProblem.objectives`) and how far it is from satisfying the hard constraints.
public struct Evaluation: Codable, Hashable, Sendable {
  public var objectives: [Double]
  /// 0 when every constraint holds; otherwise a positive measure of how far off it is (for
  /// example the sum of relative excesses over the budgets). Lower is better.
  public var constraintViolation: Double

  public init(objectives: [Double], constraintViolation: Double = 0) {
    self.objectives = objectives
    self.constraintViolation = constraintViolation
  }

  public var isFeasible: Bool { constraintViolation <= 0 }
}

/// A search problem over integer genomes. Implementations hold whatever they need to evaluate
/// (a supernet, a lookup table, a validation split) and must be deterministic per genome.
public protocol SearchProblem: Sendable {
  var space: SearchSpace { get }
  var objectives: [Objective] { get }
  /// Maps any genome to a valid one (invalid combinations are excluded by construction): called
  /// on every sampled, mutated or crossed genome. Must return an in-range genome of the same
  /// length, and should return valid genomes unchanged.
  func repair(_ genome: Genome) -> Genome
  /// Evaluates a batch (the implementer parallelises internally), one `Evaluation` per genome in
  /// the same order. Must be deterministic per genome.
  func evaluate(_ genomes: [Genome]) throws(AdaError) -> [Evaluation]
}

extension SearchProblem {
  /// Checks what the search relies on before it starts: a valid space and at least one objective.
  func validateDefinition() throws(AdaError) {
    try space.validate()
    guard !objectives.isEmpty else {
      throw AdaError(.invalidValue, path: "objectives", "the problem has no objectives")
    }
  }

  /// `repair`, then a check that the problem kept its promise.
  func repaired(_ genome: Genome) throws(AdaError) -> Genome {
    let fixed = repair(genome)
    try space.check(fixed, what: "repair(\(genome))")
    return fixed
  }

  /// `evaluate`, then checks on what came back: the count, the number of objectives, finite
  /// values and a non-negative violation, each error naming the genome.
  func checkedEvaluate(_ genomes: [Genome]) throws(AdaError) -> [Evaluation] {
    guard !genomes.isEmpty else { return [] }
    let results = try evaluate(genomes)
    guard results.count == genomes.count else {
      throw AdaError(
        .internalError, path: "evaluate",
        "returned \(results.count) evaluations for \(genomes.count) genomes (expected one per genome)")
    }
    for (genome, e) in zip(genomes, results) {
      guard e.objectives.count == objectives.count else {
        throw AdaError(
          .internalError, path: "evaluate(\(genome))",
          "returned \(e.objectives.count) objective values, expected \(objectives.count) "
            + "(\(objectives.map(\.name).joined(separator: ", ")))")
      }
      for (value, objective) in zip(e.objectives, objectives) where !value.isFinite {
        throw AdaError(.nonFinite, path: "evaluate(\(genome))", "\(objective.name) is \(value)")
      }
      guard e.constraintViolation.isFinite, e.constraintViolation >= 0 else {
        throw AdaError(
          .invalidValue, path: "evaluate(\(genome))",
          "constraint violation is \(e.constraintViolation), expected a finite value ≥ 0")
      }
    }
    return results
  }
}
