import AdaNN
import AdaProfile
import Foundation
import TestSupport
import XCTest

final class LatencyCacheTests: XCTestCase {
  let fingerprint = MachineFingerprint(
    cpuModel: "Test CPU", blasCore: "Generic", threads: 1, version: "0.1.0")

  /// A run cheap enough for tests: 1 ms per op over 2 rounds, a tiny host probe.
  func quickOptions(_ dir: String?, threads: Int = 1, version: String = "0.1.0") -> ProfileOptions {
    var o = ProfileOptions(
      probe: ProbeConfig(budgetMs: 1, rounds: 2, warmupMs: 0.5, minimumSampleMs: 0.02, threads: threads),
      cacheDirectory: dir, version: version)
    o.hostProbeBudgetMs = 2
    o.hostGemmSize = 32
    o.hostCopyBytes = 1 << 16
    return o
  }

  func testCacheRoundTripsThroughItsFile() throws {
    let dir = Fixtures.temporaryDirectory().path
    var cache = LatencyCache(directory: dir, fingerprint: fingerprint)
    XCTAssertFalse(cache.loadedFromDisk)
    cache.contents.ops["relu|in=4|out=4|act=relu|b=32"] = LatencyStats(
      count: 7, meanMs: 0.5, varianceMs2: 0.01)
    try cache.save()
    let again = LatencyCache(directory: dir, fingerprint: fingerprint)
    XCTAssertTrue(again.loadedFromDisk)
    XCTAssertEqual(again.contents.ops["relu|in=4|out=4|act=relu|b=32"]?.count, 7)
  }

  func testAChangedFingerprintInvalidatesTheCache() throws {
    let dir = Fixtures.temporaryDirectory().path
    var cache = LatencyCache(directory: dir, fingerprint: fingerprint)
    cache.contents.ops["k"] = LatencyStats(count: 1, meanMs: 1, varianceMs2: 0)
    try cache.save()
    for changed in [
      MachineFingerprint(cpuModel: "Other CPU", blasCore: "Generic", threads: 1, version: "0.1.0"),
      MachineFingerprint(cpuModel: "Test CPU", blasCore: "Haswell", threads: 1, version: "0.1.0"),
      MachineFingerprint(cpuModel: "Test CPU", blasCore: "Generic", threads: 2, version: "0.1.0"),
      MachineFingerprint(cpuModel: "Test CPU", blasCore: "Generic", threads: 1, version: "0.2.0"),
      MachineFingerprint(
        cpuModel: "Test CPU", blasCore: "Generic", threads: 1, version: "0.1.0", device: "pi-7"),
    ] {
      let other = LatencyCache(directory: dir, fingerprint: changed)
      XCTAssertFalse(other.loadedFromDisk, "\(changed)")
      XCTAssertTrue(other.contents.ops.isEmpty, "\(changed)")
    }
  }

  /// Even at the right path, a file recording another fingerprint is not trusted.
  func testAFileRecordingAnotherFingerprintIsIgnored() throws {
    let dir = Fixtures.temporaryDirectory().path
    var stale = LatencyCache.Contents(
      fingerprint: MachineFingerprint(cpuModel: "Old", blasCore: "Generic", threads: 1, version: "0"))
    stale.ops["k"] = LatencyStats(count: 1, meanMs: 1, varianceMs2: 0)
    let data = try JSONEncoder().encode(stale)
    try data.write(to: URL(fileURLWithPath: LatencyCache.path(directory: dir, fingerprint: fingerprint)))
    let cache = LatencyCache(directory: dir, fingerprint: fingerprint)
    XCTAssertFalse(cache.loadedFromDisk)
    XCTAssertTrue(cache.contents.ops.isEmpty)
  }

  /// Measurements taken by an older timing method (cache format version) are not reused.
  func testAFileFromAnOlderTimingMethodIsIgnored() throws {
    let dir = Fixtures.temporaryDirectory().path
    var old = LatencyCache.Contents(fingerprint: fingerprint)
    old.version = LatencyCache.Contents.currentVersion - 1
    old.ops["k"] = LatencyStats(count: 1, meanMs: 1, varianceMs2: 0)
    try JSONEncoder().encode(old).write(
      to: URL(fileURLWithPath: LatencyCache.path(directory: dir, fingerprint: fingerprint)))
    XCTAssertTrue(LatencyCache(directory: dir, fingerprint: fingerprint).contents.ops.isEmpty)
  }

  /// The second profile of the same model times no op: every op signature, the overhead
  /// calibration and the host probe come from the cache, unchanged. The model end to end is
  /// timed again: a measured figure is the run's own.
  func testSecondProfileOfTheSameModelIsServedFromTheCache() throws {
    let dir = Fixtures.temporaryDirectory().path
    let graph = fmnistGraph(filters: (4, 8))
    let first = try Profiler.profile(graph: graph, options: quickOptions(dir))
    let unique = Set(first.ops.map(\.signature.key)).count
    XCTAssertEqual(first.measuredNow, unique)
    XCTAssertEqual(first.cacheHits, 0)
    XCTAssertNotNil(first.measured)

    let second = try Profiler.profile(graph: graph, options: quickOptions(dir))
    XCTAssertEqual(second.measuredNow, 0)
    XCTAssertEqual(second.cacheHits, unique)
    XCTAssertEqual(second.predicted, first.predicted)
    XCTAssertNotNil(second.measured)
    XCTAssertNotEqual(second.measured, first.measured, "timed again, not read back")
    XCTAssertEqual(second.host, first.host)

    // A variant sharing all but the convolutions re-times only the new signatures.
    let variant = try Profiler.profile(graph: fmnistGraph(filters: (2, 8)), options: quickOptions(dir))
    XCTAssertEqual(
      variant.measuredNow, 5, "conv1, bn1, relu1, pool1 and conv2 (its input) change; the rest is shared")

    // Another thread count is another fingerprint: everything is timed again.
    let twoThreads = try Profiler.profile(graph: graph, options: quickOptions(dir, threads: 2))
    XCTAssertEqual(twoThreads.measuredNow, unique)
  }

  func testWithoutACacheDirectoryEverythingIsTimedAndNothingWritten() throws {
    let profile = try Profiler.profile(graph: fmnistGraph(filters: (2, 2)), options: quickOptions(nil))
    XCTAssertNil(profile.cachePath)
    XCTAssertEqual(profile.cacheHits, 0)
    XCTAssertGreaterThan(profile.predicted.meanMs, 0)
    XCTAssertEqual(profile.terms.count, profile.ops.count)
  }
}
