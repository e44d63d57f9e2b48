import AdaTensor
import XCTest

@testable import AdaSearch

final class SearchCheckpointTests: XCTestCase {
  let problem = DiscreteZDT1(genes: 6, levels: 8)
  let config = NSGA2Config(population: 10, generations: 6, seed: 21)

  func testResumeAfterStopAtAnyGenerationEqualsUninterruptedRun() throws {
    let uninterrupted = try NSGA2(config: config).run(problem)
    XCTAssertTrue(uninterrupted.completed)
    let dir = temporaryDirectory("resume")
    defer { try? FileManager.default.removeItem(at: dir) }
    for k in [1, 3, 6] {
      let path = dir.appendingPathComponent("search-\(k).json").path
      let stopped = try NSGA2(config: config).run(problem, checkpoint: path, stopWhen: { $0 == k })
      XCTAssertEqual(stopped.stopReason, .stopRequested)
      XCTAssertEqual(stopped.generations, k - 1)
      var reports: [Int] = []
      let resumed = try NSGA2(config: config).run(problem, checkpoint: path, resume: true) {
        reports.append($0.generation)
      }
      XCTAssertEqual(reports, Array(k...6), "only the remaining generations run")
      XCTAssertEqual(resumed.withoutTiming, uninterrupted.withoutTiming, "stopped before generation \(k)")
    }
  }

  func testSeveralInterruptionsStillGiveTheUninterruptedResult() throws {
    let uninterrupted = try NSGA2(config: config).run(problem)
    let dir = temporaryDirectory("multi")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("nested/search.json").path  // directory made on demand
    _ = try NSGA2(config: config).run(problem, checkpoint: path, stopWhen: { $0 == 2 })
    _ = try NSGA2(config: config).run(problem, checkpoint: path, resume: true, stopWhen: { $0 == 4 })
    _ = try NSGA2(config: config).run(problem, checkpoint: path, resume: true, stopWhen: { $0 == 5 })
    let resumed = try NSGA2(config: config).run(problem, checkpoint: path, resume: true)
    XCTAssertEqual(resumed.withoutTiming, uninterrupted.withoutTiming)
    let again = try NSGA2(config: config).run(problem, checkpoint: path, resume: true)
    XCTAssertEqual(again.withoutTiming, uninterrupted.withoutTiming, "resuming a finished search returns it")
  }

  func testRaisingGenerationsOnResumeExtendsTheSameTrajectory() throws {
    var long = config
    long.generations = 8
    let uninterrupted = try NSGA2(config: long).run(problem)
    let dir = temporaryDirectory("extend")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("search.json").path
    _ = try NSGA2(config: config).run(problem, checkpoint: path)
    let extended = try NSGA2(config: long).run(problem, checkpoint: path, resume: true)
    XCTAssertEqual(extended.archive, uninterrupted.archive)
    XCTAssertEqual(extended.population, uninterrupted.population)
    XCTAssertEqual(extended.generations, 8)
  }

  func testResumeWithoutACheckpointFileStartsAfresh() throws {
    let dir = temporaryDirectory("fresh")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("search.json").path
    let result = try NSGA2(config: config).run(problem, checkpoint: path, resume: true)
    XCTAssertEqual(result.withoutTiming, try NSGA2(config: config).run(problem).withoutTiming)
    XCTAssertTrue(FileManager.default.fileExists(atPath: path))
  }

  func testCheckpointOfAnotherSearchIsRefusedNamingTheFile() throws {
    let dir = temporaryDirectory("foreign")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("search.json").path
    _ = try NSGA2(config: config).run(problem, checkpoint: path, stopWhen: { $0 == 2 })
    var otherSeed = config
    otherSeed.seed = 22
    let e = adaError { _ = try NSGA2(config: otherSeed).run(self.problem, checkpoint: path, resume: true) }
    XCTAssertEqual(e?.file, path)
    XCTAssertEqual(e?.kind, .invalidValue)
    XCTAssertTrue(e?.message.contains("different search") ?? false, e?.message ?? "")
    let otherSpace = DiscreteZDT1(genes: 6, levels: 9)
    XCTAssertEqual(
      adaError { _ = try NSGA2(config: self.config).run(otherSpace, checkpoint: path, resume: true) }?.file,
      path)
  }

  func testCorruptOrTruncatedCheckpointIsAnErrorNamingTheFile() throws {
    let dir = temporaryDirectory("corrupt")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("search.json").path
    _ = try NSGA2(config: config).run(problem, checkpoint: path, stopWhen: { $0 == 3 })
    let good = try Data(contentsOf: URL(fileURLWithPath: path))
    let text = String(decoding: good, as: UTF8.self)
    let damaged: [(String, Data)] = [
      ("truncated", good.prefix(good.count / 2)),
      ("empty", Data()),
      ("garbage", Data("not json at all".utf8)),
      (
        "bad population",
        Data(text.replacingOccurrences(of: #""population":["#, with: #""population":[9999,"#).utf8)
      ),
      ("bad rng", Data(text.replacingOccurrences(of: #""rngState":""#, with: #""rngState":"x"#).utf8)),
      (
        "short history",
        Data(text.replacingOccurrences(of: #""generation":2,"#, with: #""generation":5,"#).utf8)
      ),
    ]
    for (name, data) in damaged {
      XCTAssertNotEqual(data, good, name)
      try data.write(to: URL(fileURLWithPath: path))
      let e = adaError {
        _ = try NSGA2(config: self.config).run(self.problem, checkpoint: path, resume: true)
      }
      XCTAssertEqual(e?.file, path, name)
      XCTAssertEqual(e?.kind, .badFormat, "\(name): \(e.map(String.init(describing:)) ?? "no error")")
    }
  }

  func testCheckpointIsReplacedAtomicallyEachGeneration() throws {
    let dir = temporaryDirectory("atomic")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("search.json").path
    var generationsOnDisk: [Int] = []
    _ = try NSGA2(config: config).run(problem, checkpoint: path) { report in
      let data = FileManager.default.contents(atPath: path) ?? Data()
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
      generationsOnDisk.append(object?["generation"] as? Int ?? -1)
      XCTAssertEqual((object?["history"] as? [Any])?.count, report.generation + 1)
    }
    XCTAssertEqual(generationsOnDisk, Array(0...6))
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter {
      $0 != "search.json"
    }
    XCTAssertEqual(leftovers, [], "no temporary files left behind")
  }
}
