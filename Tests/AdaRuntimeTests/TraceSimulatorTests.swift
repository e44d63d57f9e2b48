import AdaBundle
import AdaProfile
import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaRuntime

/// Trace parsing and replay: the adaptive policy against every fixed variant.
final class TraceSimulatorTests: XCTestCase {
  let variants = TestBundle.profiles()

  func testSmallTraceReplayCountsLatenessMemoryAndSwitches() throws {
    let trace = try ContextTrace.parse(
      """
      t,cpu_share,mem_available_mb,battery
      0,1.0,100,
      1,0.4,100,
      2,0.4,5,
      3,1.0,100,
      """, file: "small.csv")
    let report = TraceSimulator.run(variants: variants, policy: Policy(sloMs: 6), trace: trace)
    XCTAssertEqual(report.steps.map(\.decision.variant), ["v3", "v1", "v0", "v0"])
    XCTAssertEqual(report.adaptive.switches, 2)
    XCTAssertEqual(report.adaptive.sloViolations, 0)
    XCTAssertEqual(report.adaptive.memoryViolations, 0)
    XCTAssertEqual(report.adaptive.meanAccuracy, (0.91 + 0.885 + 0.86 + 0.86) / 4, accuracy: 1e-12)
    let v3 = report.fixed.first { $0.variant == "v3" }!
    XCTAssertEqual(v3.sloViolations, 2, "rows at cpu 0.4: 12.5 ms")
    XCTAssertEqual(v3.memoryViolations, 1, "24 MB in 5 MB")
    XCTAssertEqual(v3.switches, 0)
    XCTAssertEqual(v3.meanAccuracy, 0.91, accuracy: 1e-12)
    // Energy: nominal rows use the nominal LUT energy; the busy context is nearest for cpu 0.4.
    XCTAssertEqual(
      v3.energyJ, (4.8 * 4) / 1000, accuracy: 1e-12, "profiles from specs carry nominal energy only")
    XCTAssertEqual(report.fixed.map(\.variant), ["v0", "v1", "v2", "v3"])
  }

  func testEnergyComesFromTheNearestLUTContext() throws {
    let path = try TestBundle.write()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let profiles = try VariantProfile.profiles(from: ModelBundle.open(path))
    XCTAssertEqual(profiles[3].energyMj(in: DeviceContext()), 4.8, accuracy: 1e-12)
    XCTAssertEqual(profiles[3].energyMj(in: DeviceContext(cpuShare: 0.4)), 1.3 * 4.8, accuracy: 1e-12)
    XCTAssertEqual(profiles[3].latencyMs, 5, "the measured nominal row")
  }

  /// The paper's comparison on every shipped sample trace, with a bundle shaped like a real one:
  /// the adaptive policy never runs out of memory, no fixed variant is both at least as accurate
  /// and at most as often late, and it is strictly better than the largest variant on lateness
  /// and than the smallest on accuracy.
  func testAdaptiveIsNotDominatedByAnyFixedVariantOnTheSampleTraces() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: TestBundle.tracesDirectory.path)
      .filter { $0.hasSuffix(".csv") }.sorted()
    XCTAssertEqual(
      names, ["battery_drain.csv", "commute.csv", "cpu_hog.csv", "low_memory.csv", "two_hogs.csv"])
    let policy = Policy(sloMs: Policy.defaultSLO(for: variants))
    for name in names {
      let trace = try ContextTrace.load(path: TestBundle.tracesDirectory.appendingPathComponent(name).path)
      let r = TraceSimulator.run(variants: variants, policy: policy, trace: trace)
      let a = r.adaptive
      XCTAssertEqual(a.memoryViolations, 0, name)
      for f in r.fixed {
        let dominates = f.meanAccuracy >= a.meanAccuracy && f.sloViolationRate <= a.sloViolationRate
        XCTAssertFalse(
          dominates,
          "\(name): \(f.policy) (accuracy \(f.meanAccuracy), late \(f.sloViolationRate)) dominates adaptive "
            + "(accuracy \(a.meanAccuracy), late \(a.sloViolationRate))")
      }
      let largest = r.fixed.last!
      let smallest = r.fixed.first!
      XCTAssertLessThan(a.sloViolationRate, largest.sloViolationRate, "\(name): later than the largest")
      XCTAssertGreaterThan(a.meanAccuracy, smallest.meanAccuracy, "\(name): less accurate than the smallest")
      XCTAssertGreaterThan(a.switches, 0, "\(name): the trace makes the selector adapt")
    }
  }

  func testDefaultSLOIsAQuarterAboveTheMostAccurateVariant() {
    XCTAssertEqual(Policy.defaultSLO(for: variants), 6.25, accuracy: 1e-12)
    XCTAssertEqual(Policy.defaultSLO(for: variants, batch: 2), 12.5, accuracy: 1e-12)
  }

  func testTraceColumnsMayComeInAnyOrderWithOptionalOnes() throws {
    let t = try ContextTrace.parse(
      "# comment\nthermal,battery,t,cpu_share,mem_available_mb,freq_scale\nserious,0.5,0,0.5,,0.8\n,,1,1,64,\n",
      file: "x.csv")
    XCTAssertEqual(
      t.rows[0].context,
      DeviceContext(
        cpuShare: 0.5, frequencyScale: 0.8, memoryAvailableMB: nil, batteryLevel: 0.5, thermal: .serious))
    XCTAssertEqual(t.rows[1].context, DeviceContext(memoryAvailableMB: 64))
    XCTAssertEqual(t.rows.map(\.line), [3, 4])
  }

  func testBadTraceErrorsNameFileLineAndColumn() {
    func error(_ text: String) -> AdaError? {
      do {
        _ = try ContextTrace.parse(text, file: "bad.csv")
        return nil
      } catch { return error }
    }
    let header = "t,cpu_share,mem_available_mb,battery\n"
    XCTAssertEqual(
      error(header + "0,1,10,\n1,abc,10,\n")?.description,
      "bad.csv:3: cpu_share: expected a CPU share in (0, 1], found 'abc'")
    XCTAssertEqual(
      error(header + "0,1.5,10,\n")?.description,
      "bad.csv:2: cpu_share: expected a CPU share in (0, 1], found '1.5'")
    XCTAssertEqual(
      error(header + "0,1,10\n")?.description,
      "bad.csv:2: expected 4 columns (t,cpu_share,mem_available_mb,battery), found 3")
    XCTAssertEqual(error("t,cpu_share,battery\n")?.path, "mem_available_mb")
    XCTAssertEqual(
      error("t,cpu,mem_available_mb,battery\n")?.description.hasPrefix(
        "bad.csv:1: column 2: unknown column 'cpu'"), true)
    XCTAssertEqual(
      error(header + "2,1,10,\n1,1,10,\n")?.description.hasPrefix("bad.csv:3: t: time goes backwards"), true)
    XCTAssertEqual(error(header + "0,1,10,2\n")?.path, "battery")
    XCTAssertEqual(error("t,cpu_share,mem_available_mb,battery,thermal\n0,1,,,warm\n")?.path, "thermal")
    XCTAssertEqual(error(header)?.kind, .missing)
    XCTAssertEqual(error("# only a comment\n")?.kind, .badFormat)
  }
}
