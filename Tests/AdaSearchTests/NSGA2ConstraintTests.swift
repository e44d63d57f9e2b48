import AdaTensor
import XCTest

@testable import AdaSearch

final class NSGA2ConstraintTests: XCTestCase {
  func testRepairIsAppliedBeforeEveryEvaluation() throws {
    let problem = MonotoneProblem()
    let cfg = NSGA2Config(
      population: 12, generations: 10, seed: 3, mutationProbability: 0.5,
      seedGenomes: [Genome([4, 0, 4, 0, 4, 0])])
    let result = try NSGA2(config: cfg).run(problem)
    let evaluated = problem.log.all
    XCTAssertGreaterThan(evaluated.count, 30)
    let invalid = evaluated.filter { !MonotoneProblem.isValid($0) }
    XCTAssertTrue(
      invalid.isEmpty, "evaluate received \(invalid.count) invalid genomes, e.g. \(invalid.first!)")
    XCTAssertEqual(evaluated.first, Genome([4, 4, 4, 4, 4, 4]), "the seed genome is repaired too")
    XCTAssertTrue(result.archive.allSatisfy { MonotoneProblem.isValid($0.genome) })
    let random = try RandomSearch.run(problem, evaluations: 20, seed: 1)
    XCTAssertTrue(random.archive.allSatisfy { MonotoneProblem.isValid($0.genome) })
  }

  func testInfeasibleGenomesNeverEnterTheFrontWhenAnyIsFeasible() throws {
    let problem = ConstrainedZDT1()
    let result = try NSGA2(config: NSGA2Config(population: 16, generations: 12, seed: 5)).run(problem)
    XCTAssertTrue(result.archive.contains { !$0.evaluation.isFeasible }, "the test needs infeasible genomes")
    XCTAssertFalse(result.front.isEmpty)
    for a in result.front {
      XCTAssertTrue(a.evaluation.isFeasible, "\(a.genome) violates by \(a.evaluation.constraintViolation)")
      XCTAssertGreaterThanOrEqual(a.evaluation.objectives[0], 0.5)
    }
    XCTAssertTrue(
      result.population.allSatisfy(\.evaluation.isFeasible), "feasible survivors beat infeasible ones")
    // The constraint is active at the optimum: the best feasible f1 is the bound x₁ = 0.5.
    XCTAssertEqual(result.history.last!.best![0], 0.5, accuracy: 1e-12)
    XCTAssertEqual(result.front(sortedBy: "f1").first!.evaluation.objectives[0], 0.5, accuracy: 1e-12)
  }

  func testWithNothingFeasibleTheFrontIsEmptyAndViolationIsMinimised() throws {
    let problem = ConstrainedZDT1(minimumX1: 2)
    let result = try NSGA2(config: NSGA2Config(population: 8, generations: 6, seed: 5)).run(problem)
    XCTAssertTrue(result.front.isEmpty)
    XCTAssertNil(result.history.last!.best)
    let least = result.archive.map(\.evaluation.constraintViolation).min()!
    XCTAssertEqual(
      result.population.first!.evaluation.constraintViolation, least, "smallest violation survives first")
    XCTAssertEqual(least, 1, accuracy: 1e-12, "x₁ = 1 is as close as the space gets")
  }

  func testInvalidConfigurationsAreRejectedNamingTheField() {
    let zdt = DiscreteZDT1(genes: 3, levels: 4)
    func failure(_ cfg: NSGA2Config, _ problem: some SearchProblem) -> AdaError? {
      adaError { _ = try NSGA2(config: cfg).run(problem) }
    }
    XCTAssertEqual(failure(NSGA2Config(population: 3, seed: 1), zdt)?.path, "population")
    XCTAssertEqual(failure(NSGA2Config(generations: -1, seed: 1), zdt)?.path, "generations")
    XCTAssertEqual(
      failure(NSGA2Config(seed: 1, crossoverProbability: 1.5), zdt)?.path, "crossoverProbability")
    XCTAssertEqual(failure(NSGA2Config(seed: 1, mutationProbability: -0.1), zdt)?.path, "mutationProbability")
    XCTAssertEqual(failure(NSGA2Config(timeBudgetSeconds: 0, seed: 1), zdt)?.path, "timeBudgetSeconds")
    XCTAssertEqual(
      failure(NSGA2Config(seed: 1, seedGenomes: [Genome([0, 9, 0])]), zdt)?.path, "seedGenomes[0]")
    XCTAssertEqual(failure(NSGA2Config(seed: 1, seedGenomes: [Genome([0, 0])]), zdt)?.path, "seedGenomes[0]")
    let box = HypervolumeReference(nadir: [1], ideal: [0])
    XCTAssertEqual(
      failure(NSGA2Config(seed: 1, hypervolumeReference: box), zdt)?.path, "hypervolumeReference")

    struct Shaped: SearchProblem {
      var space: SearchSpace
      var objectives: [Objective] = [.minimize("a")]
      func repair(_ genome: Genome) -> Genome { genome }
      func evaluate(_ genomes: [Genome]) throws(AdaError) -> [Evaluation] {
        genomes.map { _ in Evaluation(objectives: [0]) }
      }
    }
    XCTAssertEqual(failure(NSGA2Config(seed: 1), Shaped(space: SearchSpace(genes: [])))?.path, "space")
    let noChoices = SearchSpace(genes: [.init(name: "a", choices: ["x"]), .init(name: "b", choices: [])])
    let e = failure(NSGA2Config(seed: 1), Shaped(space: noChoices))
    XCTAssertEqual(e?.path, "space.genes[1]")
    XCTAssertTrue(e?.message.contains("'b'") ?? false, e?.message ?? "")
    let oneGene = SearchSpace(genes: [.init(name: "a", choices: ["x"])])
    XCTAssertEqual(failure(NSGA2Config(seed: 1), Shaped(space: oneGene, objectives: []))?.path, "objectives")
  }

  func testWhatEvaluateReturnsIsChecked() {
    func failure(_ fault: FaultyProblem.Fault) -> AdaError? {
      adaError {
        _ = try NSGA2(config: NSGA2Config(population: 4, generations: 1, seed: 1)).run(
          FaultyProblem(fault: fault))
      }
    }
    XCTAssertEqual(failure(.dropLast)?.kind, .internalError)
    XCTAssertTrue(failure(.dropLast)?.message.contains("3 evaluations for 4 genomes") ?? false)
    XCTAssertEqual(failure(.extraObjective)?.kind, .internalError)
    XCTAssertEqual(failure(.nan)?.kind, .nonFinite)
    XCTAssertEqual(failure(.negativeViolation)?.kind, .invalidValue)
    XCTAssertEqual(failure(.throwsError), AdaError(.missing, path: "validation split", "no images"))
    XCTAssertTrue(failure(.outOfRangeRepair)?.path?.hasPrefix("repair(") ?? false)
  }

  func testConfigDecodesWithDefaultsAndRoundTrips() throws {
    let decoded = try JSONDecoder().decode(
      NSGA2Config.self, from: Data(#"{"seed": 7, "population": 10}"#.utf8))
    XCTAssertEqual(decoded, NSGA2Config(population: 10, seed: 7))
    XCTAssertEqual(decoded.effectiveMutationProbability(genes: 8), 0.125)
    let full = NSGA2Config(
      population: 8, generations: 3, timeBudgetSeconds: 60, seed: 1, mutationProbability: 0.2,
      seedGenomes: [Genome([1, 2])], hypervolumeReference: .init(nadir: [1], ideal: [0]))
    XCTAssertEqual(try JSONDecoder().decode(NSGA2Config.self, from: JSONEncoder().encode(full)), full)
    XCTAssertEqual(String(decoding: try JSONEncoder().encode(Genome([1, 2])), as: UTF8.self), "[1,2]")
  }
}
