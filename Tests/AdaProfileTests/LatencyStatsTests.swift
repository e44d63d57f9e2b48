import AdaNN
import AdaProfile
import XCTest

final class LatencyStatsTests: XCTestCase {
  /// Three rounds of four samples around 1 ms; one sample preempted (50 ms) is dropped (cutoff:
  /// median 1.05 + 4 · 1.4826 · MAD 0.05 ≈ 1.35 ms), and the mean is the median of the round
  /// means 1.0, 1.1 and (1.0 + 1.3 + 0.95) / 3 = 1.0833.
  func testPreemptedSamplesAreDroppedAndTheMeanIsTheMedianOfRoundMeans() {
    var set = SampleSet(callsPerSample: 1)
    for round in [[1.0, 0.9, 1.1, 1.0], [1.1, 1.2, 1.0, 1.1], [1.0, 1.3, 0.95, 50.0]] {
      set.startRound()
      for ms in round { set.add(totalSeconds: ms / 1e3) }
    }
    let s = set.stats
    XCTAssertEqual(s.count, 12)
    XCTAssertEqual(s.meanMs, (1.0 + 1.3 + 0.95) / 3, accuracy: 1e-9)
    XCTAssertLessThan(s.sdMs, 2, "the 50 ms outlier must not enter the spread")
    XCTAssertEqual(set.cutoff * 1e3, 1.05 + 4 * 1.4826 * 0.05, accuracy: 1e-9)
  }

  /// A sample that is the mean of k calls has 1/k of one call's variance: the per-call variance
  /// is k × the samples' variance. Samples 1 and 3 ms, k = 4: sample variance 2, per call 8.
  func testPerCallVarianceUndoesTheAveragingOfGroupedCalls() {
    var set = SampleSet(callsPerSample: 4)
    set.startRound()
    set.add(totalSeconds: 4 * 1e-3)
    set.add(totalSeconds: 4 * 3e-3)
    let s = set.stats
    XCTAssertEqual(s.count, 8)
    XCTAssertEqual(s.meanMs, 2, accuracy: 1e-9)
    XCTAssertEqual(s.varianceMs2, 8, accuracy: 1e-9)
  }

  func testSumsAddMeansAndVariances() {
    let a = LatencyStats(count: 10, meanMs: 1, varianceMs2: 0.04)
    let b = LatencyStats(count: 20, meanMs: 2, varianceMs2: 0.09)
    let c = a + b
    XCTAssertEqual(c.meanMs, 3)
    XCTAssertEqual(c.varianceMs2, 0.13, accuracy: 1e-12)
  }

  /// Two ops of 0.5 and 0.25 ms (variances 0.01, 0.04), overhead 0.01 ms per node plus 0.005 ms
  /// per parameter tensor: the dense node (kernel, bias) carries 0.02 ms, the input the
  /// per-model start (0 here; `DispatchOverheadTests` covers every term).
  func testEstimatorSumsOpMeansPlusDispatchOverheadAndAddsVariances() throws {
    let g = chain([4], [("d", .dense(DenseSpec(units: 2)), nil)])
    let ops = try g.profiledOps()
    let table = [
      ops[0].signature.key: LatencyStats(count: 1, meanMs: 0.25, varianceMs2: 0.04),
      ops[1].signature.key: LatencyStats(count: 1, meanMs: 0.5, varianceMs2: 0.01),
    ]
    let (terms, total) = LatencyEstimator.predict(
      ops: ops, table: table, overhead: DispatchOverhead(perNodeMs: 0.01, perParameterMs: 0.005))
    XCTAssertEqual(terms[0].overheadMs, 0, accuracy: 1e-12)
    XCTAssertEqual(terms[1].overheadMs, 0.02, accuracy: 1e-12)
    XCTAssertEqual(total.meanMs, 0.25 + 0.5 + 0.02, accuracy: 1e-12)
    XCTAssertEqual(total.varianceMs2, 0.05, accuracy: 1e-12)
    XCTAssertEqual(
      LatencyEstimator.relativeError(predictedMs: 0.9, measuredMs: 1.0), -0.1, accuracy: 1e-12)
  }
}
