import AdaBundle
import AdaIO
import Foundation
import TestSupport
import XCTest

/// `adascale compress` as a user runs it: a killed run resumes to the same bundle, a bad recipe
/// fails fast naming the line and key.
final class CompressCommandTests: XCTestCase {
  var directory = ""

  override func setUpWithError() throws {
    directory = NSTemporaryDirectory() + "adascale-compress-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

  func writeRecipe(_ name: String, output: String, extra: String = "") throws -> String {
    let text = """
      name: tiny
      model:
        file: \(Fixtures.path("keras/fmnist_cnn.h5"))
      dataset: {source: fashion-mnist, validation: 120, calibration: 64, train-limit: 760, test-limit: 200}
      supernet:
        widths: [1.0, 0.5]
        branches: [low-rank:0.25]
        bits: [32, 8]
        exits: none
        training: {epochs: 2, batch-size: 32, recalibration-batches: 2}
      search: {population: 4, generations: 2, workers: 2}
      targets: {devices: [host], contexts: {normal: {cpu: 1.0}}}
      output: {directory: \(output), variants: 3}
      \(extra)
      """
    let path = directory + "/" + name
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func arguments(_ recipe: String) -> [String] {
    [
      "compress", "--recipe", recipe, "--no-compare-random", "--probe-budget-ms", "1", "--latency-cache",
      directory + "/latency",
    ]
  }

  /// SIGKILL during supernet training, then again during the search; each time the same command
  /// picks up from the work directory, and the bundle equals an uninterrupted run's.
  func testKilledRunResumesToTheSameBundle() throws {
    let a = try CLI.run(arguments(try writeRecipe("a.yaml", output: directory + "/a")), timeout: 600)
    XCTAssertEqual(a.status, 0, a.stderr)

    let recipe = try writeRecipe("b.yaml", output: directory + "/b")
    let work = directory + "/b.work"
    // 1st run: killed once the supernet has checkpointed.
    let first = try CLI.start(arguments(recipe), log: URL(fileURLWithPath: directory + "/killed-1.log"))
    let trained = first.waitForFile(work + "/supernet/checkpoint.adackpt", timeout: 600)
    first.kill()
    guard trained else { return XCTFail("no supernet checkpoint before the run ended:\n\(first.log)") }
    XCTAssertTrue(first.wasKilled(), "expected death by SIGKILL during supernet training")
    // 2nd run: resumes the supernet mid-training, killed once the search has checkpointed.
    let second = try CLI.start(arguments(recipe), log: URL(fileURLWithPath: directory + "/killed-2.log"))
    let searched = waitForFile(in: work, prefix: "search-", timeout: 600)
    second.kill()
    guard searched else { return XCTFail("no search checkpoint before the run ended:\n\(second.log)") }
    XCTAssertTrue(second.wasKilled(), "expected death by SIGKILL during the search")
    XCTAssertTrue(
      second.log.contains("resuming from \(work)/supernet"), "2nd run must resume training:\n\(second.log)")
    XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/b/manifest.json"))
    // 3rd run: resumes the search and finishes.
    let b = try CLI.run(arguments(recipe), timeout: 600)
    XCTAssertEqual(b.status, 0, b.stderr)
    XCTAssertTrue(b.stderr.contains("search: resuming from"), "3rd run must resume the search:\n\(b.stderr)")

    let ma = try manifest(directory + "/a")
    let mb = try manifest(directory + "/b")
    XCTAssertEqual(ma.variants.map(\.genomeKey), mb.variants.map(\.genomeKey))
    XCTAssertEqual(ma.variants.map(\.accuracy), mb.variants.map(\.accuracy))
    for (va, vb) in zip(ma.variants, mb.variants) {
      let wa = try KerasModelReader.load(path: directory + "/a/" + va.file).parameters
      let wb = try KerasModelReader.load(path: directory + "/b/" + vb.file).parameters
      XCTAssertEqual(wa, wb, "\(va.id) weights differ after kill + resume")
    }
  }

  func testRecipeMistakeFailsFastNamingTheLineAndKey() throws {
    let recipe = try writeRecipe("bad.yaml", output: directory + "/x")
    let text = try String(contentsOfFile: recipe, encoding: .utf8)
      .replacingOccurrences(of: "branches: [low-rank:0.25]", with: "branches: [low-rnak:0.25]")
    try text.write(toFile: recipe, atomically: true, encoding: .utf8)
    let r = try CLI.run(arguments(recipe), timeout: 60)
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertTrue(r.stderr.contains("bad.yaml:7:"), r.stderr)
    XCTAssertTrue(r.stderr.contains("supernet.branches[0]"), r.stderr)
    XCTAssertTrue(r.stderr.contains("low-rank"), "did-you-mean: \(r.stderr)")
    XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/x.work"))
  }

  /// `--budget` overrides the recipe's `budget:`; a bad value is a usage error before any work.
  func testBudgetFlagOverridesTheRecipe() throws {
    let recipe = try writeRecipe("budget.yaml", output: directory + "/budget", extra: "budget: 30m")
    let r = try CLI.run(arguments(recipe) + ["--budget", "1h"], timeout: 600)
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stderr.contains("compress: budget 1h: supernet ≤ "), r.stderr)
    XCTAssertEqual(try manifest(directory + "/budget").budget?.budgetSeconds, 3600)
    XCTAssertTrue(
      FileManager.default.fileExists(atPath: directory + "/budget.work/budget-plan.json"), "plan stored")

    let bad = try CLI.run(arguments(recipe) + ["--budget", "soon"], timeout: 60)
    XCTAssertEqual(bad.status, 1, bad.stderr)
    XCTAssertTrue(bad.stderr.contains("--budget: expected a positive duration"), bad.stderr)
  }

  func testHelpShowsExamples() throws {
    let r = try CLI.run(["compress", "--help"])
    XCTAssertEqual(r.status, 0)
    XCTAssertTrue(r.stdout.contains("adascale compress --recipe recipes/fmnist.yaml"), r.stdout)
  }

  /// Waits until a file whose name starts with `prefix` appears in `directory`.
  func waitForFile(in directory: String, prefix: String, timeout: TimeInterval) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
      if names.contains(where: { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }) { return true }
      usleep(20_000)
    }
    return false
  }

  func manifest(_ bundle: String) throws -> Manifest {
    try JSONDecoder().decode(
      Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json")))
  }
}
