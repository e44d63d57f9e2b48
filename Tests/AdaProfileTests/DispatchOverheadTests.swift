import AdaNN
import AdaProfile
import Foundation
import XCTest

/// The estimator's context terms (`DispatchOverhead`): what each adds, that a chain's prediction
/// is the sum of its parts, the fit that calibrates them, device scaling and the fallback for
/// signatures nobody timed.
final class DispatchOverheadTests: XCTestCase {
  let overhead = DispatchOverhead(
    perNodeMs: 0.01, perParameterMs: 0.005, perWeightByteMs: 1e-6, perModelMs: 0.1)

  /// input [4] → dense 2 (kernel 4·2 + bias 2 = 10 floats, 40 B) → relu.
  func graph() -> Graph {
    chain([4], [("d", .dense(DenseSpec(units: 2)), nil), ("r", .relu(ReLUSpec()), nil)])
  }

  func table(_ ops: [GraphOp], ms: [Double]) -> [String: LatencyStats] {
    Dictionary(
      zip(ops, ms).map { ($0.signature.key, LatencyStats(count: 1, meanMs: $1, varianceMs2: 0.01)) },
      uniquingKeysWith: { a, _ in a })
  }

  /// The input node carries the per-model start; the dense node perNode + 2 tensors + 40 B of
  /// weights; the relu perNode alone.
  func testContextAddsPerNodePerTensorPerWeightByteAndPerModel() throws {
    let ops = try graph().profiledOps()
    let (terms, total) = LatencyEstimator.predict(
      ops: ops, table: table(ops, ms: [0.001, 0.5, 0.25]), overhead: overhead)
    XCTAssertEqual(terms[0].overheadMs, 0.1, accuracy: 1e-12)
    XCTAssertEqual(terms[0].weightMs, 0)
    XCTAssertEqual(terms[1].overheadMs, 0.01 + 2 * 0.005, accuracy: 1e-12)
    XCTAssertEqual(terms[1].weightMs, 40 * 1e-6, accuracy: 1e-15)
    XCTAssertEqual(terms[2].overheadMs, 0.01, accuracy: 1e-12)
    XCTAssertEqual(terms[2].weightMs, 0)
    XCTAssertEqual(
      total.meanMs, 0.001 + 0.5 + 0.25 + 0.1 + 0.02 + 40e-6 + 0.01, accuracy: 1e-12)
    XCTAssertEqual(total.varianceMs2, 0.03, accuracy: 1e-12)
  }

  /// Predicting a chain in two pieces gives the same total as predicting it whole, and appending
  /// a node adds exactly its op time and its context.
  func testChainPredictionIsTheSumOfItsParts() throws {
    let ops = try graph().profiledOps()
    let t = table(ops, ms: [0.001, 0.5, 0.25])
    let whole = LatencyEstimator.predict(ops: ops, table: t, overhead: overhead).total
    let head = LatencyEstimator.predict(ops: Array(ops[..<2]), table: t, overhead: overhead).total
    let tail = LatencyEstimator.predict(ops: Array(ops[2...]), table: t, overhead: overhead).total
    XCTAssertEqual(whole.meanMs, head.meanMs + tail.meanMs, accuracy: 1e-12)
    XCTAssertEqual(whole.meanMs - head.meanMs, 0.25 + overhead.perNodeMs, accuracy: 1e-12)
    XCTAssertEqual(whole.varianceMs2, head.varianceMs2 + tail.varianceMs2, accuracy: 1e-12)
  }

  /// Zero terms reduce the estimator to the plain sum of the table.
  func testZeroContextIsThePlainSumOfOpTimes() throws {
    let ops = try graph().profiledOps()
    let total = LatencyEstimator.predict(
      ops: ops, table: table(ops, ms: [0.001, 0.5, 0.25]), overhead: .zero
    ).total
    XCTAssertEqual(total.meanMs, 0.751, accuracy: 1e-12)
  }

  /// A signature missing from the table falls back to the host roofline: the dense op's
  /// 2·8 + 2 = 18 FLOPs at 1 GFLOP/s (18 ns) against its 16 + 40 + 8 = 64 bytes at 1 GB/s
  /// (64 ns): memory-bound, 64e-6 ms, marked modelled, not timed.
  func testUnknownSignatureFallsBackToTheHostRoofline() throws {
    let ops = try graph().profiledOps()
    var t = table(ops, ms: [0.001, 0.5, 0.25])
    t[ops[1].signature.key] = nil
    let host = HostMeasurements(
      peakGflops: 1, bandwidthGBs: 1, clockGHz: 3, gemmSize: 512, copyBytes: 1 << 20)
    let (terms, _) = LatencyEstimator.predict(ops: ops, table: t, overhead: .zero, host: host)
    XCTAssertTrue(terms[1].modelled)
    XCTAssertFalse(terms[2].modelled)
    XCTAssertEqual(ops[1].work.flops, 18)
    XCTAssertEqual(ops[1].work.bytesMoved, 64)
    XCTAssertEqual(terms[1].op.meanMs, 64e-6, accuracy: 1e-15)
    XCTAssertEqual(terms[1].op.count, 0)
  }

  /// On a modelled device the dispatch part scales with clock (3 / 1.5 GHz) and the weight
  /// part with bandwidth (20 / 5 GB/s); the host keeps both.
  func testDevicesScaleDispatchByClockAndWeightReadsByBandwidth() throws {
    let host = HostMeasurements(
      peakGflops: 100, bandwidthGBs: 20, clockGHz: 3, gemmSize: 512, copyBytes: 1 << 20)
    var device = DeviceProfile(
      name: "toy", measured: false, cores: 4, clockGHz: 1.5, peakGflopsPerCore: 10,
      memoryBandwidthGBs: 5, idlePowerW: 2, activePowerPerCoreW: 1, energyPerBytePJ: 100)
    let ops = try chain([4], [("r", .relu(ReLUSpec()), nil)]).profiledOps()
    let terms = [
      LatencyEstimator.Term(op: .zero, overheadMs: 0.1, weightMs: 0),
      LatencyEstimator.Term(op: .zero, overheadMs: 0.01, weightMs: 0.002),
    ]
    let modelled = DeviceModel(device: device, host: host, threads: 1).modelLatency(ops: ops, terms: terms)
    XCTAssertEqual(modelled.meanMs, (0.1 + 0.01) * 2 + 0.002 * 4, accuracy: 1e-12)
    device.measured = true
    let measured = DeviceModel(device: device, host: host, threads: 1).modelLatency(ops: ops, terms: terms)
    XCTAssertEqual(measured.meanMs, 0.1 + 0.01 + 0.002, accuracy: 1e-12)
  }

  /// Residuals made from known terms (0.2 µs per node, 0.1 µs per tensor, 2e-9 ms per byte)
  /// are recovered; a term the data would make negative is dropped and the rest refitted.
  func testNonNegativeFitRecoversKnownTermsAndDropsNegativeOnes() {
    let rows: [[Double]] = [
      [1, 0, 0], [1, 2, 4_000], [1, 4, 400], [1, 2, 600_000], [1, 0, 0], [1, 2, 150_000],
    ]
    let truth = [2e-4, 1e-4, 2e-9]
    let y = rows.map { r in zip(r, truth).reduce(0) { $0 + $1.0 * $1.1 } }
    let c = DispatchOverhead.nonNegativeLeastSquares(rows, y)
    for (a, b) in zip(c, truth) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    // Per-tensor slope −0.05 µs: dropped; the per-node term becomes the mean.
    let falling = rows.map { 3e-4 - 5e-5 * $0[1] }
    let d = DispatchOverhead.nonNegativeLeastSquares(rows.map { [$0[0], $0[1]] }, falling)
    XCTAssertEqual(d[1], 0)
    XCTAssertEqual(d[0], falling.reduce(0, +) / Double(falling.count), accuracy: 1e-12)
  }

  /// ops-lut.json files written before the weight and per-model terms read them as 0.
  func testTablesWithoutTheNewTermsDecode() throws {
    let json = #"{"per_node_ms": 3e-05, "per_parameter_ms": 0.00014}"#
    let o = try JSONDecoder().decode(DispatchOverhead.self, from: Data(json.utf8))
    XCTAssertEqual(o, DispatchOverhead(perNodeMs: 3e-5, perParameterMs: 1.4e-4))
    let round = try JSONDecoder().decode(
      DispatchOverhead.self, from: JSONEncoder().encode(overhead))
    XCTAssertEqual(round, overhead)
  }

  /// The calibration graph is valid, heterogeneous like a MobileNet (every kind a folded or
  /// unfolded MobileNet runs) and holds more weights than a 1 MB L2.
  func testCalibrationGraphIsAValidHeterogeneousMobileNet() throws {
    let ops = try DispatchOverhead.calibrationGraph().profiledOps()
    let kinds = Set(ops.map(\.spec.kindName))
    for kind in [
      "conv2d", "depthwise-conv2d", "relu", "zero-padding2d", "batch-norm", "add",
      "global-avg-pool2d", "dense",
    ] {
      XCTAssertTrue(kinds.contains(kind), kind)
    }
    XCTAssertTrue(
      ops.contains { $0.signature.stride == .square(2) && $0.spec.kindName == "depthwise-conv2d" })
    XCTAssertGreaterThan(ops.reduce(0) { $0 + 4 * $1.work.params }, 1 << 20)
  }
}
