import AdaTensor
import XCTest

@testable import AdaSearch

final class HypervolumeTests: XCTestCase {
  /// Staircase (1,3), (2,2), (3,1) under (4,4): strips 3·1 + 2·1 + 1·1 = 6.
  func testTwoDimensionalStaircaseIsSix() {
    XCTAssertEqual(Hypervolume.compute([[1, 3], [2, 2], [3, 1]], reference: [4, 4]), 6, accuracy: 1e-12)
  }

  func testDominatedAndOutsidePointsAddNothing() {
    let front: [[Double]] = [[1, 3], [2, 2], [3, 1]]
    let base = Hypervolume.compute(front, reference: [4, 4])
    XCTAssertEqual(
      Hypervolume.compute(front + [[3, 3], [2, 2]], reference: [4, 4]), base, accuracy: 1e-12)
    XCTAssertEqual(
      Hypervolume.compute(front + [[0.5, 4], [5, 0]], reference: [4, 4]), base, accuracy: 1e-12)
    XCTAssertEqual(Hypervolume.compute([[5, 5]], reference: [4, 4]), 0)
    XCTAssertEqual(Hypervolume.compute([], reference: [4, 4]), 0)
  }

  /// (0,0,1), (0,1,0), (1,0,0) under (2,2,2): three boxes of 4, pairwise overlaps of 2, the
  /// triple overlap 1: 12 − 6 + 1 = 7. A single (1,1,1) gives 1.
  func testThreeDimensionalCornerSetIsSeven() {
    let points: [[Double]] = [[0, 0, 1], [0, 1, 0], [1, 0, 0]]
    XCTAssertEqual(Hypervolume.compute(points, reference: [2, 2, 2]), 7, accuracy: 1e-12)
    XCTAssertEqual(Hypervolume.compute([[1, 1, 1]], reference: [2, 2, 2]), 1, accuracy: 1e-12)
    XCTAssertEqual(
      Hypervolume.compute(points + [[1, 1, 1], [0, 1, 1.5]], reference: [2, 2, 2]), 7, accuracy: 1e-12,
      "dominated points add nothing")
  }

  func testSweepMatchesInclusionExclusionOnRandomSets() {
    var rng = SeededGenerator(seed: 5)
    for dimensions in 2...4 {
      for trial in 0..<6 {
        let n = 3 + rng.nextIndex(below: 8)
        // Half-integers from a small range: ties in every coordinate happen often.
        let points = (0..<n).map { _ in (0..<dimensions).map { _ in Double(rng.nextIndex(below: 9)) / 2 } }
        let reference = [Double](repeating: 4.2, count: dimensions)
        let fast = Hypervolume.compute(points, reference: reference)
        let slow = Hypervolume.inclusionExclusion(
          points.filter { $0.allSatisfy { $0 < 4.2 } }, reference: reference)
        XCTAssertEqual(fast, slow, accuracy: 1e-9 * max(1, slow), "d=\(dimensions) trial \(trial): \(points)")
      }
    }
  }

  /// accuracy (maximise) in box [nadir 0.5, ideal 1.0], latency (minimise) in [nadir 20, ideal 0]:
  /// (0.9, 10) → (0.2, 0.5) and (0.8, 5) → (0.4, 0.25); against (1, 1): 0.8·0.5 + 0.6·0.25 = 0.55.
  func testNormalisedHypervolumeHandlesMaximisedObjectives() throws {
    let objectives: [Objective] = [.maximize("accuracy"), .minimize("latency_ms")]
    let box = HypervolumeReference(nadir: [0.5, 20], ideal: [1.0, 0])
    try box.validate(for: objectives, path: "box")
    XCTAssertEqual(box.normalise([0.9, 10])[0], 0.2, accuracy: 1e-12)
    XCTAssertEqual(box.hypervolume([[0.9, 10], [0.8, 5]]), 0.55, accuracy: 1e-12)

    let archived = [[0.9, 10.0], [0.8, 5.0]].enumerated().map { i, v in
      Archived(genome: Genome([i]), evaluation: Evaluation(objectives: v), generation: 0)
    }
    let result = SearchResult(
      algorithm: "test", space: SearchSpace(genes: [.init(name: "g", choices: ["a", "b"])]),
      objectives: objectives, archive: archived, front: archived, population: [], generations: 0, history: [],
      stopReason: .finished, hypervolumeReference: box)
    XCTAssertEqual(result.hypervolume(), 0.55, accuracy: 1e-12)
    XCTAssertEqual(result.front(sortedBy: "latency_ms").map(\.genome), [Genome([1]), Genome([0])])
  }

  func testReferenceWithIdealOnTheWrongSideIsRejected() {
    let objectives: [Objective] = [.maximize("accuracy"), .minimize("latency_ms")]
    let e = adaError {
      try HypervolumeReference(nadir: [1.0, 20], ideal: [0.5, 0]).validate(for: objectives, path: "box")
    }
    XCTAssertEqual(e?.path, "box.accuracy")
    XCTAssertEqual(
      adaError { try HypervolumeReference(nadir: [1], ideal: [0]).validate(for: objectives, path: "box") }?
        .kind,
      .invalidValue)
  }
}
