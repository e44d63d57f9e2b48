import Foundation
import TestSupport
import XCTest

/// Every input the mutation loop (`tools/faults/mutate.py`) found crashing or hanging adascale,
/// rebuilt from `Fixtures/fuzz/regressions.json` (a committed fixture plus a few byte edits):
/// each now ends in exit 1 with an error naming the file and what is wrong.
final class MutatedFileRegressionTests: XCTestCase {
  struct Record: Decodable {
    var name: String
    var base: String
    var size: Int
    var edits: [[Int]]
    var args: [String]
    var inProcess: Bool
    var expect: String
  }

  func testEveryFoundCrashIsAnErrorNamingTheFile() throws {
    let records = try JSONDecoder().decode(
      [Record].self, from: Data(contentsOf: Fixtures.url("fuzz/regressions.json")))
    XCTAssertFalse(records.isEmpty)
    let directory = Fixtures.temporaryDirectory("mutated")
    defer { try? FileManager.default.removeItem(at: directory) }
    for r in records {
      var bytes = [UInt8](try Data(contentsOf: Fixtures.url(r.base)).prefix(r.size))
      for e in r.edits { bytes[e[0]] = UInt8(e[1]) }
      let file = directory.appendingPathComponent(
        r.name + "." + r.base.split(separator: ".", maxSplits: 1)[1]
      ).path
      try Data(bytes).write(to: URL(fileURLWithPath: file))
      let args = r.args.map { a in
        a == "FILE"
          ? file
          : a == "OUT"
            ? directory.appendingPathComponent("out.h5").path
            : a.hasPrefix("MODEL:") ? Fixtures.path(String(a.dropFirst(6))) : a
      }
      var modes: [[String: String]] = [["ADASCALE_DECODE_TIMEOUT_S": "2"]]
      if r.inProcess { modes.append(["ADASCALE_DECODE_IN_PROCESS": "1"]) }
      for environment in modes {
        let result = try CLI.run(args, environment: environment, timeout: 60)
        XCTAssertEqual(result.status, 1, "\(r.name) \(environment): \(result.stderr)")
        XCTAssertTrue(
          result.stderr.contains("error: \(file): "), "\(r.name): names the file: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains(r.expect), "\(r.name) \(environment): \(result.stderr)")
      }
    }
  }
}
