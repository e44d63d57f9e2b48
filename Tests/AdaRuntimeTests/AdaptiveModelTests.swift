import AdaBundle
import AdaNN
import AdaProfile
import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaRuntime

/// `AdaptiveModel` on a small bundle with a fixed (injected) context.
final class AdaptiveModelTests: XCTestCase {
  var path: String!

  override func setUpWithError() throws { path = try TestBundle.write() }
  override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

  func input(_ n: Int) -> Tensor {
    var g = SeededGenerator(seed: 3)
    return Tensor.uniform([n, 4], lo: -1, hi: 1, using: &g)
  }

  func testPredictRunsTheChosenVariantAndMatchesItsOwnOutput() throws {
    let model = try AdaptiveModel(bundle: path, policy: Policy(sloMs: 6), monitor: nil)
    let x = input(1)
    let r = try model.predict(x)
    XCTAssertEqual(r.decision.variant, "v3")
    let v3 = try ModelBundle.open(path).loadVariant("v3").model
    let expected = try Executor(graph: v3.graph).predict(x, parameters: v3.parameters)[0]
    XCTAssertEqual(r.output, expected)
    XCTAssertEqual(r.output.shape, [1, 3])
    XCTAssertGreaterThan(r.measuredLatencyMs, 0)
    XCTAssertNotNil(r.loadMs, "the first use reads the variant")
    XCTAssertNil(try model.predict(x).loadMs, "the second does not")
  }

  func testContextChangeSwitchesVariantsLazily() throws {
    let model = try AdaptiveModel(bundle: path, policy: Policy(sloMs: 6), monitor: nil)
    XCTAssertEqual(model.loadedVariants, [])
    _ = try model.predict(input(1))
    XCTAssertEqual(model.loadedVariants, ["v3"])
    // The first call measured microseconds: ratio clamped at 0.2, correction 0.2^0.3 = 0.62.
    // cpu 0.25: v2 12 · 0.62 = 7.4 ms (late), v1 7.2 · 0.62 = 4.4 ms.
    model.fixedContext = DeviceContext(cpuShare: 0.25)
    let r = try model.predict(input(1))
    XCTAssertEqual(r.decision.variant, "v1")
    XCTAssertTrue(r.decision.switched)
    XCTAssertEqual(model.loadedVariants, ["v1", "v3"])
  }

  /// The tiny test models run in microseconds, far under the LUT's milliseconds: feedback
  /// brings the correction down, and it is the measurement that is recorded.
  func testMeasurementsFeedTheCorrection() throws {
    let model = try AdaptiveModel(bundle: path, policy: Policy(sloMs: 6), monitor: nil)
    for _ in 0..<5 { _ = try model.predict(input(1)) }
    let i = model.selector.index(of: "v3")!
    XCTAssertLessThan(model.selector.correction(i), 0.5, "measured ≪ 5 ms predicted")
    XCTAssertGreaterThanOrEqual(model.selector.correction(i), 0.2 * 0.99, "ratios are clamped at 0.2")
  }

  func testBatchSizeOfTheCallIsWhatTheSelectorPlansFor() throws {
    let model = try AdaptiveModel(bundle: path, policy: Policy(sloMs: 6), monitor: nil)
    // batch 2: v3 10 ms, v2 6 ms: v2 is the most accurate on time.
    let r = try model.predict(input(2))
    XCTAssertEqual(r.decision.variant, "v2")
    XCTAssertEqual(r.decision.predictedLatencyMs, 6, accuracy: 1e-9)
    XCTAssertEqual(r.output.shape, [2, 3])
  }

  func testEagerLoadingWithinABudgetKeepsTheFastestVariantsAndEvictsLeastRecentlyUsed() throws {
    // Weights: v0 1 MB, v1 2 MB, v2 4 MB, v3 8 MB; a 4 MB budget holds v0 + v1, and v3 never fits.
    let budget = 4 * 1_048_576
    let model = try AdaptiveModel(
      bundle: path, policy: Policy(sloMs: 6), monitor: nil, loading: .eager, memoryBudgetBytes: budget)
    XCTAssertEqual(model.loadedVariants, ["v0", "v1"])
    XCTAssertEqual(model.selector.variants.map(\.id), ["v0", "v1", "v2"], "v3 (8 MB) is no candidate")
    let r = try model.predict(input(1))  // v2, the most accurate that fits: both others make room
    XCTAssertEqual(r.decision.variant, "v2")
    XCTAssertEqual(model.loadedVariants, ["v2"])
    XCTAssertEqual(
      model.peakWeightBytes, budget, "v2 alone: read after v0 and v1 were dropped, not beside them")
  }

  func testABudgetBelowEveryVariantIsAnError() throws {
    XCTAssertThrowsError(
      try AdaptiveModel(bundle: path, policy: Policy(sloMs: 6), monitor: nil, memoryBudgetBytes: 1 << 19)
    ) { error in
      XCTAssertEqual((error as? AdaError)?.kind, .invalidValue)
      XCTAssertTrue(
        (error as? AdaError)?.message.contains("the smallest, 'v0', needs 1.0 MB") == true, "\(error)")
    }
  }

  func testWrongInputShapeIsAnError() throws {
    let model = try AdaptiveModel(bundle: path, policy: Policy(sloMs: 6), monitor: nil)
    XCTAssertThrowsError(try model.predict(Tensor.zeros([1, 5]))) { error in
      XCTAssertEqual((error as? AdaError)?.kind, .badShape)
    }
  }

  func testMonitorIsSampledAtMostOncePerInterval() throws {
    final class Clock: @unchecked Sendable { var now = 0.0 }
    let clock = Clock()
    let root = Fixtures.temporaryDirectory("adascale-fakeroot")
    defer { try? FileManager.default.removeItem(at: root) }
    let meminfo = root.appendingPathComponent("proc/meminfo")
    try FileManager.default.createDirectory(
      at: meminfo.deletingLastPathComponent(), withIntermediateDirectories: true)
    func memory(_ mb: Int) throws {
      try "MemAvailable: \(mb * 1024) kB\n".write(to: meminfo, atomically: true, encoding: .utf8)
    }
    try memory(1000)
    let monitor = ResourceMonitor(root: root.path, clock: { clock.now })
    let model = try AdaptiveModel(bundle: path, policy: Policy(sloMs: 6), monitor: monitor)
    model.sampleInterval = 1
    XCTAssertEqual(try model.predict(input(1)).decision.variant, "v3")
    try memory(10)  // v3 (24 MB) no longer fits, but the next sample is not due yet
    clock.now = 0.5
    XCTAssertEqual(try model.predict(input(1)).decision.variant, "v3")
    clock.now = 1.0
    let r = try model.predict(input(1))
    XCTAssertEqual(r.decision.variant, "v1", "10 MB with 10% kept free: v1 (6 MB) is the largest that fits")
    XCTAssertEqual(r.context.memoryAvailableMB!, 10, accuracy: 1e-9)
  }
}
