import AdaTensor
import XCTest

@testable import AdaSearch

final class NSGA2Tests: XCTestCase {
  let zdt = DiscreteZDT1(genes: 6, levels: 11)  // 11⁶ ≈ 1.8 M genomes, true front of 11 points
  let box = HypervolumeReference(nadir: [1.1, 1.1], ideal: [0, 0])

  func config(seed: UInt64, population: Int = 24, generations: Int = 25) -> NSGA2Config {
    NSGA2Config(population: population, generations: generations, seed: seed, hypervolumeReference: box)
  }

  func testNSGA2ReachesTheTrueFrontOfDiscreteZDT1() throws {
    let trueFront = Set(zdt.trueFront.map { $0.map { ($0 * 1e9).rounded() } })
    let best = box.hypervolume(zdt.trueFront)
    for seed: UInt64 in [1, 2] {
      let result = try NSGA2(config: config(seed: seed)).run(zdt)
      XCTAssertTrue(result.completed)
      XCTAssertEqual(result.generations, 25)
      XCTAssertGreaterThan(result.hypervolume(), 0.97 * best, "seed \(seed): \(result.history.last!)")
      let found = result.front.filter {
        trueFront.contains($0.evaluation.objectives.map { ($0 * 1e9).rounded() })
      }
      XCTAssertGreaterThanOrEqual(found.count, 9, "seed \(seed): true-front points found")
      XCTAssertEqual(result.hypervolume(), result.history.last!.hypervolume, accuracy: 1e-12)
    }
  }

  /// Averaged over three fixed seeds, at the same number of unique evaluations, in a box wide
  /// enough (f2 up to 10) that random genomes score too.
  func testNSGA2BeatsRandomSearchAtEqualEvaluations() throws {
    let wide = HypervolumeReference(nadir: [1.1, 10], ideal: [0, 0])
    var nsga = 0.0
    var random = 0.0
    for seed: UInt64 in [3, 4, 5] {
      let result = try NSGA2(config: config(seed: seed, population: 16, generations: 15)).run(zdt)
      let baseline = try RandomSearch.run(zdt, evaluations: result.evaluations, seed: seed)
      XCTAssertEqual(baseline.evaluations, result.evaluations)
      nsga += result.hypervolume(reference: wide) / 3
      random += baseline.hypervolume(reference: wide) / 3
    }
    XCTAssertGreaterThan(nsga, random + 0.05, "NSGA-II \(nsga) vs random \(random)")
  }

  func testSameSeedGivesIdenticalResultAndOtherSeedDiffers() throws {
    let problem = DiscreteZDT1(genes: 5, levels: 8, maximizeFirst: true)
    let a = try NSGA2(config: NSGA2Config(population: 12, generations: 6, seed: 42)).run(problem)
    let b = try NSGA2(config: NSGA2Config(population: 12, generations: 6, seed: 42)).run(problem)
    let c = try NSGA2(config: NSGA2Config(population: 12, generations: 6, seed: 43)).run(problem)
    XCTAssertEqual(a.archive, b.archive)
    XCTAssertEqual(a.front, b.front)
    XCTAssertEqual(a.withoutTiming, b.withoutTiming)
    XCTAssertNotEqual(a.archive.map(\.genome), c.archive.map(\.genome))
  }

  func testMaximisedObjectiveIsOptimisedUpwards() throws {
    let problem = DiscreteZDT1(genes: 6, levels: 11, maximizeFirst: true)
    let result = try NSGA2(config: NSGA2Config(population: 24, generations: 25, seed: 1)).run(problem)
    // quality = 1 − f1 is maximised: the front spans quality up to 1 (x₁ = 0), where f2 = g ≥ 1.
    let best = result.history.last!.best!
    XCTAssertEqual(best[0], 1, accuracy: 1e-12)
    XCTAssertEqual(result.front(sortedBy: "quality").first!.evaluation.objectives[0], 1, accuracy: 1e-12)
    XCTAssertLessThan(best[1], 0.05)
    for a in result.front {
      for b in result.archive where b.evaluation.objectives != a.evaluation.objectives {
        let better =
          b.evaluation.objectives[0] >= a.evaluation.objectives[0]
          && b.evaluation.objectives[1] <= a.evaluation.objectives[1]
        XCTAssertFalse(better, "\(b.genome) dominates front member \(a.genome)")
      }
    }
  }

  func testEveryGenomeIsEvaluatedOnceAndEvaluationsCountUniqueGenomes() throws {
    let problem = DiscreteZDT1(genes: 3, levels: 3)  // 27 genomes: duplicates are unavoidable
    let result = try NSGA2(config: NSGA2Config(population: 10, generations: 8, seed: 9)).run(problem)
    let evaluated = problem.log.all
    XCTAssertEqual(Set(evaluated).count, evaluated.count, "a genome was evaluated twice")
    XCTAssertEqual(result.evaluations, evaluated.count)
    XCTAssertEqual(result.archive.map(\.genome), evaluated, "archive is in evaluation order")
    XCTAssertEqual(result.population.count, 10, "the population stays full when children repeat")
    XCTAssertLessThanOrEqual(result.evaluations, 27)
    XCTAssertEqual(
      problem.log.batchCount, 1 + result.history.dropFirst().filter { $0.newEvaluations > 0 }.count)
  }

  func testSeedGenomesStartThePopulationAndDuplicatesAreEvaluatedOnce() throws {
    let problem = DiscreteZDT1(genes: 4, levels: 5)
    let largest = Genome([4, 4, 4, 4])
    let smallest = Genome([0, 0, 0, 0])
    let cfg = NSGA2Config(population: 6, generations: 0, seed: 1, seedGenomes: [largest, smallest, largest])
    let result = try NSGA2(config: cfg).run(problem)
    XCTAssertEqual(Array(problem.log.all.prefix(2)), [largest, smallest])
    XCTAssertEqual(problem.log.all.count, 5, "6 members, one repeated seed")
    XCTAssertEqual(result.history.count, 1)
    XCTAssertTrue(result.completed)
  }

  func testReportDescribesProgressInOneLine() {
    let report = GenerationReport(
      generation: 3, generations: 15, evaluations: 72, newEvaluations: 20, frontSize: 9,
      hypervolume: 0.61234, best: [0.89121, 0.031], objectiveNames: ["accuracy", "latency_ms"],
      elapsedSeconds: 1.5)
    XCTAssertEqual(
      report.description,
      "generation 3/15: 72 evaluated, front 9, hypervolume 0.6123, best accuracy 0.8912, best latency_ms 0.031"
    )
    var none = report
    none.best = nil
    XCTAssertTrue(none.description.hasSuffix("hypervolume 0.6123, nothing feasible yet"), none.description)
  }

  func testTimeBudgetStopsBetweenGenerations() throws {
    var cfg = config(seed: 1, population: 8, generations: 50)
    cfg.timeBudgetSeconds = 1e-9
    let result = try NSGA2(config: cfg).run(zdt)
    XCTAssertEqual(result.stopReason, .timeBudget)
    XCTAssertFalse(result.completed)
    XCTAssertEqual(result.generations, 0, "the initial population always runs, then the budget is spent")
    XCTAssertEqual(result.evaluations, 8)
  }

  func testRandomSearchStopsWhenTheSpaceIsExhausted() throws {
    let problem = DiscreteZDT1(genes: 2, levels: 3)  // 9 genomes
    let result = try RandomSearch.run(problem, evaluations: 20, seed: 1, batchSize: 4)
    XCTAssertEqual(result.evaluations, 9)
    XCTAssertEqual(result.stopReason, .spaceExhausted)
    XCTAssertEqual(Set(result.archive.map(\.genome)).count, 9)
    XCTAssertEqual(result.history.map(\.evaluations), [4, 8, 9])
  }
}
