import AdaTensor
import XCTest

@testable import AdaSearch

final class DominanceTests: XCTestCase {
  /// Costs (both minimised):
  ///   0 (1,5)  1 (2,3)  2 (3,4)  3 (4,1)  4 (5,5)  5 (2,6)   feasible
  ///   6 (0,0) violation 0.5    7 (0,0) violation 0.2          infeasible
  /// Front 0 = {0,1,3}; front 1 = {2,5} ((3,4) loses to (2,3), (2,6) to (1,5)); front 2 = {4};
  /// then the infeasible points by violation: {7}, {6}.
  let points: [Fitness] = [
    .init(costs: [1, 5]), .init(costs: [2, 3]), .init(costs: [3, 4]), .init(costs: [4, 1]),
    .init(costs: [5, 5]), .init(costs: [2, 6]), .init(costs: [0, 0], violation: 0.5),
    .init(costs: [0, 0], violation: 0.2),
  ]

  func testNonDominatedSortGroupsHandComputedFronts() {
    XCTAssertEqual(Dominance.fronts(points), [[0, 1, 3], [2, 5], [4], [7], [6]])
    XCTAssertEqual(Dominance.ranks(Dominance.fronts(points), count: 8), [0, 0, 1, 0, 2, 1, 4, 3])
  }

  func testConstraintDominationPrefersFeasibleThenSmallerViolation() {
    let feasibleButPoor = Fitness(costs: [9, 9])
    let excellentButInfeasible = Fitness(costs: [0, 0], violation: 0.1)
    XCTAssertTrue(feasibleButPoor.constrainedDominates(excellentButInfeasible))
    XCTAssertFalse(excellentButInfeasible.constrainedDominates(feasibleButPoor))
    XCTAssertTrue(points[7].constrainedDominates(points[6]))
    XCTAssertFalse(points[6].constrainedDominates(points[7]))
    XCTAssertFalse(points[0].constrainedDominates(points[1]), "mutually non-dominated")
    XCTAssertFalse(points[0].constrainedDominates(points[0]), "a point does not dominate itself")
  }

  /// Front (1,5), (2,3), (3,2.5), (4,1):
  ///   f1 range 3: (2,3) gets (3−1)/3, (3,2.5) gets (4−2)/3;
  ///   f2 range 4: (2,3) gets (5−2.5)/4 = 0.625, (3,2.5) gets (3−1)/4 = 0.5; extremes +∞.
  func testCrowdingDistanceMatchesHandComputedValues() {
    let costs: [[Double]] = [[9, 9], [1, 5], [3, 2.5], [2, 3], [4, 1]]
    let d = Dominance.crowdingDistances(costs, front: [1, 2, 3, 4])
    XCTAssertEqual(d[0], .infinity)
    XCTAssertEqual(d[1], 2.0 / 3 + 0.5, accuracy: 1e-12)
    XCTAssertEqual(d[2], 2.0 / 3 + 0.625, accuracy: 1e-12)
    XCTAssertEqual(d[3], .infinity)
    XCTAssertEqual(Dominance.crowdingDistances(costs, front: [0, 4]), [.infinity, .infinity])
  }

  func testCrowdingDistanceIgnoresAnObjectiveWithoutRange() {
    let costs: [[Double]] = [[1, 7], [2, 7], [4, 7]]
    XCTAssertEqual(Dominance.crowdingDistances(costs, front: [0, 1, 2]), [.infinity, 1, .infinity])
  }

  func testIncrementalArchiveFrontEqualsBruteForceFront() {
    var rng = SeededGenerator(seed: 11)
    let objectives: [Objective] = [.minimize("a"), .maximize("b"), .minimize("c")]
    for trial in 0..<5 {
      var archive = ParetoArchive(objectives: objectives)
      for i in 0..<120 {
        // Coarse values so that ties and duplicate points occur.
        let values = (0..<3).map { _ in Double(rng.nextIndex(below: 6)) }
        let violation = rng.nextIndex(below: 4) == 0 ? Double(rng.nextIndex(below: 3)) : 0
        archive.append(
          Archived(
            genome: Genome([trial, i]),
            evaluation: Evaluation(objectives: values, constraintViolation: violation),
            generation: 0))
      }
      XCTAssertEqual(archive.front, Dominance.feasibleNonDominated(archive.fitness), "trial \(trial)")
      XCTAssertFalse(archive.front.isEmpty)
    }
  }
}
