import AdaPipeline
import AdaSearch
import Foundation
import TestSupport
import XCTest

/// `adascale search-worker`, what a Ray task runs (docs/scale.md), without Ray: rebuilt from the
/// files a finished local run left, it scores every genome of that run's search to the same
/// bits; and the Ray options' errors, all before any training. Runs in `make test`.
final class SearchWorkerTests: XCTestCase {
  nonisolated(unsafe) static var shared: (tiny: TinyCompress, work: String)?

  override class func tearDown() {
    if let s = shared { try? FileManager.default.removeItem(atPath: s.tiny.directory) }
    shared = nil
  }

  func local() throws -> (tiny: TinyCompress, work: String) {
    if let s = Self.shared { return s }
    let tiny = try TinyCompress(directory: Fixtures.temporaryDirectory("search-worker").path)
    let r = try CLI.run(tiny.arguments(try tiny.recipe("local")), timeout: 300)
    XCTAssertEqual(r.status, 0, r.stderr)
    guard r.status == 0 else { throw XCTSkip("the local run failed:\n\(r.stderr)") }
    Self.shared = (tiny, tiny.directory + "/local.work")
    return Self.shared!
  }

  func spec(identity: String?) throws -> SearchWorkerSpec {
    let (tiny, work) = try local()
    let names = try FileManager.default.contentsOfDirectory(atPath: work)
    let baseline = try XCTUnwrap(names.first { $0.hasPrefix("baseline-") && $0.hasSuffix(".h5") })
    return SearchWorkerSpec(
      recipe: tiny.directory + "/local.yaml", source: work + "/" + baseline, supernet: work + "/supernet",
      identity: identity)
  }

  func testWorkerScoresTheLocalSearchArchiveBitForBit() throws {
    let (_, work) = try local()
    let archive = try RayBackendTests.archive(work)
    XCTAssertGreaterThan(archive.count, 2)
    let worker = try SearchWorker.load(try spec(identity: nil))
    let genomes = archive.map(\.genome)
    // Accuracy is the first objective; one thread and two give the same bits.
    for workers in [1, 2] {
      let got = try worker.accuracies(of: genomes, workers: workers)
      XCTAssertEqual(
        got.map(\.bitPattern), archive.map { $0.evaluation.objectives[0].bitPattern }, "\(workers)")
    }
  }

  func testCommandPrintsBitsAndRefusesOtherFiles() throws {
    let (_, work) = try local()
    let archive = try RayBackendTests.archive(work)
    let worker = try SearchWorker.load(try spec(identity: nil))
    let identity = SearchWorker.identity(evaluator: worker.evaluator, validation: worker.validation)
    let genomes = String(decoding: try JSONEncoder().encode(archive.prefix(2).map(\.genome)), as: UTF8.self)
    let ok = try CLI.run(try spec(identity: identity).arguments + ["--genomes", genomes], timeout: 120)
    XCTAssertEqual(ok.status, 0, ok.stderr)
    struct Out: Decodable { var bits: [String] }
    let out = try JSONDecoder().decode(Out.self, from: Data(ok.stdout.utf8))
    XCTAssertEqual(out.bits, archive.prefix(2).map { RayProtocol.bits($0.evaluation.objectives[0]) })

    let wrong = try CLI.run(try spec(identity: "0123456789abcdef").arguments + ["--genomes", genomes])
    XCTAssertEqual(wrong.status, 1, wrong.stderr)
    XCTAssertTrue(wrong.stderr.contains("the search's to 0123456789abcdef"), wrong.stderr)
    let bad = try CLI.run(try spec(identity: identity).arguments + ["--genomes", "[[99]]"])
    XCTAssertEqual(bad.status, 1, bad.stderr)
    XCTAssertTrue(bad.stderr.contains("genome [99] has 1 genes"), bad.stderr)
  }

  func testRayOptionsAreCheckedBeforeAnyTraining() throws {
    let tiny = try TinyCompress(directory: Fixtures.temporaryDirectory("ray-options").path)
    defer { try? FileManager.default.removeItem(atPath: tiny.directory) }
    let recipe = try tiny.recipe("r")
    let cases: [([String], String)] = [
      (["--backend", "spark"], "--backend must be local or ray; found 'spark'"),
      (["--backend", "ray", "--ray-address", "nowhere"], "--ray-address: expected host:port"),
      (["--ray-chunk", "0"], "--ray-chunk must be auto or at least 1; found '0'"),
      (["--recipes", recipe], "give one recipe with --recipe, or several with --recipes"),
    ]
    for (extra, expected) in cases {
      let r = try CLI.run(tiny.arguments(recipe) + extra)
      XCTAssertNotEqual(r.status, 0, "\(extra)")
      XCTAssertTrue(r.stderr.contains(expected), "\(extra): \(r.stderr)")
    }
    // search.backend: ray with no address anywhere fails at once, naming the key.
    let started = Date()
    let r = try CLI.run(
      tiny.arguments(recipe) + ["--backend", "ray"], environment: ["ADASCALE_RAY_ADDRESS": ""], timeout: 60)
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertTrue(
      r.stderr.contains("search.ray-address: search.backend is ray but no cluster address"), r.stderr)
    XCTAssertLessThan(Date().timeIntervalSince(started), 30)
    XCTAssertFalse(FileManager.default.fileExists(atPath: tiny.directory + "/r.work/supernet"))
  }
}
