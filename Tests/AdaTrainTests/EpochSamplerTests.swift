import AdaTensor
import XCTest

@testable import AdaTrain

final class EpochSamplerTests: XCTestCase {
  func testSameSeedAndEpochGiveTheSameOrder() {
    let a = EpochSampler(count: 500, validationFraction: 0, batchSize: 32, seed: 42)
    let b = EpochSampler(count: 500, validationFraction: 0, batchSize: 32, seed: 42)
    for epoch in [0, 1, 7] { XCTAssertEqual(a.order(epoch: epoch), b.order(epoch: epoch)) }
  }

  func testDifferentEpochsAndSeedsGiveDifferentOrders() {
    let s = EpochSampler(count: 500, validationFraction: 0, batchSize: 32, seed: 42)
    XCTAssertNotEqual(s.order(epoch: 0), s.order(epoch: 1))
    XCTAssertNotEqual(
      s.order(epoch: 0),
      EpochSampler(count: 500, validationFraction: 0, batchSize: 32, seed: 43).order(epoch: 0))
    XCTAssertNotEqual(s.order(epoch: 0), Array(0..<500), "the order is shuffled")
  }

  func testOrderIsAPermutationOfTheTrainingExamples() {
    let s = EpochSampler(count: 103, validationFraction: 0.2, batchSize: 10, seed: 1)
    XCTAssertEqual(s.order(epoch: 3).sorted(), s.trainIndices)
  }

  func testValidationSplitTakesTheLastFractionBeforeShuffling() {
    // 103 · 0.2 = 20.6 → 21 held out (LabeledDataset.split rounds the same way): 82..<103.
    let s = EpochSampler(count: 103, validationFraction: 0.2, batchSize: 10, seed: 1)
    XCTAssertEqual(s.validationIndices, Array(82..<103))
    XCTAssertEqual(s.trainIndices, Array(0..<82))
    XCTAssertTrue(Set(s.order(epoch: 0)).isDisjoint(with: s.validationIndices))
  }

  func testBatchesCoverTheEpochWithAPartialLastBatch() {
    let s = EpochSampler(count: 82, validationFraction: 0, batchSize: 10, seed: 9)
    XCTAssertEqual(s.stepsPerEpoch, 9)
    let order = s.order(epoch: 2)
    let batches = (0..<s.stepsPerEpoch).map { s.batch($0, of: order) }
    XCTAssertEqual(batches.map(\.count), [10, 10, 10, 10, 10, 10, 10, 10, 2])
    XCTAssertEqual(batches.flatMap { Array($0) }, order)
  }

  func testStreamsAreIndependentOfEachOtherAndOfPosition() {
    var seen = Set<UInt64>()
    for stream in RandomStream.allCases {
      for epoch in 0..<4 {
        for step in 0..<4 { seen.insert(stream.seed(5, epoch: epoch, step: step)) }
      }
    }
    XCTAssertEqual(
      seen.count, RandomStream.allCases.count * 16, "every (stream, epoch, step) has its own seed")
    XCTAssertEqual(
      RandomStream.dropout.seed(5, epoch: 2, step: 3), RandomStream.dropout.seed(5, epoch: 2, step: 3))
  }

  func testBoundedDrawsStayInRangeAndCoverIt() {
    var g = SeededGenerator(seed: 3)
    var counts = [Int](repeating: 0, count: 5)
    for _ in 0..<5000 { counts[g.nextIndex(below: 5)] += 1 }
    XCTAssertTrue(counts.allSatisfy { $0 > 800 && $0 < 1200 }, "\(counts)")
  }
}
