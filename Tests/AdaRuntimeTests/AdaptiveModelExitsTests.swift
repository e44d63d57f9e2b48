import AdaBundle
import AdaIO
import AdaNN
import AdaProfile
import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaRuntime

/// `AdaptiveModel` on a bundle whose `v1` has an exit plan (`TestBundle.writeWithExits`):
/// v0 0.86 at 1 ms; v1 0.91 at 5 ms, `v1@drop-0.5` 0.905 at 3 ms, `v1@budget-0.5` 0.89 at 2 ms.
final class AdaptiveModelExitsTests: XCTestCase {
  var path: String!
  let n = 32

  override func setUpWithError() throws { path = try TestBundle.writeWithExits() }
  override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

  func input() -> Tensor {
    var g = SeededGenerator(seed: 11)
    return Tensor.uniform([n, 4], lo: -1, hi: 1, using: &g)
  }

  /// SLO 6 ms per input at batch 32; no hysteresis, and feedback too slow to matter (the tiny
  /// models run in microseconds, far under the LUT's milliseconds).
  func policy() -> Policy {
    Policy.withoutHysteresis(Policy(sloMs: 6 * Double(n), ewmaAlpha: 1e-9))
  }

  /// The multi-exit model's outputs on `x` through the plain executor.
  func fullOutputs(_ x: Tensor) throws -> [Tensor] {
    let m = try KerasModelReader.loadWithQuantized(path: ModelBundle.path(path, "variants/v1_exits.h5")).model
    return try Executor(graph: m.graph).predict(x, parameters: m.parameters)
  }

  func testProfilesAddOneCandidatePerOperatingPointWithItsAccuracyAndLatency() throws {
    let bundle = try ModelBundle.open(path)
    let auto = try VariantProfile.profiles(from: bundle, exits: .auto)
    XCTAssertEqual(auto.map(\.label), ["v0", "v1", "v1@drop-0.5", "v1@budget-0.5"])
    XCTAssertEqual(auto.map(\.accuracy), [0.86, 0.91, 0.905, 0.89])
    XCTAssertEqual(auto.map(\.latencyMs), [1, 5, 3, 2])
    XCTAssertEqual(
      auto[3].energyMj(in: DeviceContext()), 4.8 * 70 / 120, accuracy: 1e-12, "energy × MACs ratio")
    XCTAssertEqual(try VariantProfile.profiles(from: bundle, exits: .off).map(\.label), ["v0", "v1"])
    XCTAssertEqual(
      try VariantProfile.profiles(from: bundle, exits: .fixed("budget-0.5")).map(\.label),
      ["v0", "v1@budget-0.5"])

    // The plan's per-op-table latency is calibrated by the variant's measured / predicted.
    let slow = try TestBundle.writeWithExits(manifest: { $0.variants[1].predictedLatencyMs = 2.5 })
    defer { try? FileManager.default.removeItem(atPath: slow) }
    let calibrated = try VariantProfile.profiles(from: ModelBundle.open(slow), exits: .auto)
    XCTAssertEqual(calibrated.map(\.latencyMs), [1, 5, 6, 4])
  }

  func testUnderContentionItMovesToCheaperOperatingPointsThenToASmallerVariant() throws {
    let model = try AdaptiveModel(bundle: path, policy: policy(), monitor: nil)
    let x = input()
    var chosen: [String] = []
    for cpu in [1.0, 0.6, 0.4, 0.2, 1.0] {
      model.fixedContext = DeviceContext(cpuShare: cpu)
      let r = try model.predict(x)
      chosen.append(r.decision.label)
      XCTAssertTrue(r.decision.onTime, "cpu \(cpu): \(r.decision.reason)")
    }
    // 5 ms / 0.6 = 8.3 late, 3 / 0.6 = 5 on time; 3 / 0.4 = 7.5 late, 2 / 0.4 = 5; 2 / 0.2 = 10 late.
    XCTAssertEqual(chosen, ["v1", "v1@drop-0.5", "v1@budget-0.5", "v0", "v1"])
    XCTAssertEqual(model.loadedVariants, ["v0", "v1"], "operating points share the variant's file")
  }

  func testEachOperatingPointRunsPerInputAsTheOfflineRuleSaysAndCountsMACs() throws {
    let model = try AdaptiveModel(bundle: path, policy: policy(), monitor: nil)
    let x = input()
    let full = try fullOutputs(x)
    let scores = full.dropLast().map { ExitConfidence.maxSoftmax.scores($0, isProbability: true) }
    let plan = TestBundle.exitPlan()
    for (cpu, point) in [(0.6, 0), (0.4, 1)] {
      model.fixedContext = DeviceContext(cpuShare: cpu)
      let r = try model.predict(x)
      let op = plan.operatingPoints[point]
      XCTAssertEqual(r.decision.operatingPoint, op.name)
      let t = op.thresholds
      let want = (0..<n).map { i in t.indices.first { k in t[k].map { scores[k][i] >= $0 } ?? false } ?? 2 }
      XCTAssertEqual(r.exitIndices, want, op.name)
      XCTAssertEqual(r.exitCount, 2)
      let h = r.exitHistogram!
      print("\(op.name): exits \(h), mean MACs \(Double(r.macsPerInput.reduce(0, +)) / Double(n))")
      XCTAssertGreaterThan(h[0], 0, "\(op.name): some leave at exit 0: \(h)")
      XCTAssertGreaterThan(h[2], 0, "\(op.name): some reach the final output: \(h)")
      for i in 0..<n {
        XCTAssertEqual(
          Array(r.output.scalars[(i * 3)..<(i * 3 + 3)]), Array(full[want[i]].scalars[(i * 3)..<(i * 3 + 3)]),
          "\(op.name) input \(i)")
      }
      // drop-0.5 keeps both exits: 56, 144, 168. budget-0.5 drops exit 1: 56, —, 168 − 24.
      let macs = point == 0 ? [56, 144, 168] : [56, -1, 144]
      XCTAssertEqual(r.macsPerInput, want.map { macs[$0] }, op.name)
    }
  }

  func testWithoutAnOperatingPointTheExitFileGivesTheStaticVariantsOutput() throws {
    let model = try AdaptiveModel(bundle: path, policy: policy(), monitor: nil)
    let x = input()
    let r = try model.predict(x)
    XCTAssertEqual(r.decision.label, "v1")
    XCTAssertEqual(r.exitHistogram, [0, 0, n])
    XCTAssertEqual(
      r.macsPerInput, Array(repeating: 120, count: n), "finalMacs − both heads = the static MACs")
    let v1 = try ModelBundle.open(path).loadVariant("v1").model
    XCTAssertEqual(r.output, try Executor(graph: v1.graph).predict(x, parameters: v1.parameters)[0])
  }

  func testExitsOffRunsTheStaticFilesAsBefore() throws {
    let model = try AdaptiveModel(bundle: path, policy: policy(), monitor: nil, exits: .off)
    model.fixedContext = DeviceContext(cpuShare: 0.6)
    let r = try model.predict(input())
    XCTAssertEqual(r.decision.label, "v0", "no operating points: the smaller variant")
    XCTAssertNil(r.exitIndices)
    XCTAssertEqual(r.macsPerInput, Array(repeating: 14, count: n), "v0's manifest MACs")
  }

  func testAFixedOperatingPointIsTheOnlyCandidateOfItsVariant() throws {
    let model = try AdaptiveModel(bundle: path, policy: policy(), monitor: nil, exits: .fixed("budget-0.5"))
    XCTAssertEqual(model.selector.variants.map(\.label), ["v0", "v1@budget-0.5"])
    XCTAssertEqual(try model.predict(input()).decision.label, "v1@budget-0.5")
  }

  func testTheExitModeIsARuntimeKnob() throws {
    let model = try AdaptiveModel(bundle: path, policy: policy(), monitor: nil)
    model.fixedContext = DeviceContext(cpuShare: 0.6)
    XCTAssertEqual(try model.predict(input()).decision.label, "v1@drop-0.5")
    try model.setExits(.off)
    XCTAssertEqual(model.loadedVariants, [], "static files from now on")
    let off = try model.predict(input())
    XCTAssertEqual(off.decision.label, "v0")
    XCTAssertNil(off.exitIndices)
    try model.setExits(.fixed("budget-0.5"))
    XCTAssertEqual(try model.predict(input()).decision.label, "v1@budget-0.5")
    XCTAssertThrowsError(try model.setExits(.fixed("nope")))
    XCTAssertEqual(model.exits, .fixed("budget-0.5"), "a refused mode changes nothing")
    XCTAssertEqual(model.selector.variants.map(\.label), ["v0", "v1@budget-0.5"])
  }

  // MARK: Errors

  func error(_ body: () throws -> Void) -> AdaError? {
    do {
      try body()
      return nil
    } catch { return error as? AdaError }
  }

  func testAnOperatingPointTheBundleLacksIsAnErrorListingTheOnesItHas() throws {
    let e = error { _ = try AdaptiveModel(bundle: path, monitor: nil, exits: .fixed("drop-9")) }
    XCTAssertEqual(e?.kind, .invalidValue)
    XCTAssertTrue(e?.message.contains("'drop-9'") ?? false, e?.description ?? "")
    XCTAssertTrue(e?.message.contains("drop-0.5, budget-0.5") ?? false, e?.description ?? "")

    let plain = try TestBundle.write()
    defer { try? FileManager.default.removeItem(atPath: plain) }
    let none = error { _ = try AdaptiveModel(bundle: plain, monitor: nil, exits: .fixed("drop-0.5")) }
    XCTAssertTrue(
      none?.message.contains("no variant of the bundle has early exits") ?? false,
      "\(String(describing: none))")
    XCTAssertNil(error { _ = try AdaptiveModel(bundle: plain, monitor: nil, exits: .auto) })
  }

  /// The bundle reader checks the plans (`ModelBundle.open`); the runtime passes its errors on.
  func testThresholdsOutsideTheUnitIntervalInTheManifestAreErrorsNamingTheField() throws {
    for (thresholds, kind, field) in [
      (
        [[0.8, 1.5], [0.6, nil]] as [[Float?]], AdaError.Kind.invalidValue,
        "operating_points[0].thresholds[1]"
      ),
      ([[0.8, 0.7], [-0.2, nil]], .invalidValue, "operating_points[1].thresholds[0]"),
      ([[0.8, 0.7], [0.6]], .badShape, "operating_points[1].thresholds"),
    ] {
      let bad = try TestBundle.writeWithExits(edit: { plan in
        for (j, t) in thresholds.enumerated() { plan.operatingPoints[j].thresholds = t }
      })
      defer { try? FileManager.default.removeItem(atPath: bad) }
      let e = error { _ = try AdaptiveModel(bundle: bad, monitor: nil) }
      XCTAssertEqual(e?.kind, kind, "\(thresholds)")
      XCTAssertEqual(e?.path, "variants[1].exits." + field, e?.description ?? "")
      XCTAssertTrue(e?.file?.hasSuffix("manifest.json") ?? false)
    }
  }

  func testAnExitOutputMissingFromTheMultiExitFileIsAnErrorNamingTheFile() throws {
    let bad = try TestBundle.writeWithExits(edit: { $0.exits[1].output = "nope" })
    defer { try? FileManager.default.removeItem(atPath: bad) }
    let e = error { _ = try AdaptiveModel(bundle: bad, monitor: nil, loading: .eager) }
    XCTAssertEqual(e?.kind, .badFormat, e?.description ?? "")
    XCTAssertTrue(e?.file?.hasSuffix("v1_exits.h5") ?? false, e?.description ?? "")
    XCTAssertTrue(e?.message.contains("nope") ?? false, e?.description ?? "")
    XCTAssertNil(error { _ = try AdaptiveModel(bundle: bad, monitor: nil, loading: .eager, exits: .off) })
  }

  /// What the bundle reader does not check: an exit that is not shallower than the next.
  func testExitsOutOfDepthOrderAreAnErrorNamingTheField() throws {
    let bad = try TestBundle.writeWithExits(edit: { $0.exits.swapAt(0, 1) })
    defer { try? FileManager.default.removeItem(atPath: bad) }
    // The file's outputs must follow the plan, so write one whose outputs are swapped too.
    var (_, exits) = TestBundle.exitModels(hidden: 8, seed: 2)
    exits.graph.outputs = ["e1", "e0", "logits"]
    try KerasModelWriter.save(exits, to: ModelBundle.path(bad, "variants/v1_exits.h5"))
    let e = error { _ = try AdaptiveModel(bundle: bad, monitor: nil, loading: .eager) }
    XCTAssertEqual(e?.path, "variants[1].exits.exits[1].output", e?.description ?? "")
    XCTAssertTrue(e?.message.contains("depth order") ?? false, e?.description ?? "")
  }
}
