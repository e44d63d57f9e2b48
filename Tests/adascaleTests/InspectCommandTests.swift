import AdaTensor
import Foundation
import TestSupport
import XCTest

final class InspectCommandTests: XCTestCase {
  /// Totals agree with Keras' `count_params()` (fixture metadata) and with a hand count of MACs.
  func testTotalsMatchKerasParameterCountAndHandCountedMACs() throws {
    let r = try CLI.run(["inspect", Fixtures.path("keras/fmnist_cnn.h5"), "--json"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    let meta =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: Fixtures.url("keras/fmnist_cnn.json"))) as! [String: Any]
    XCTAssertEqual(report["totalParams"] as? Int, meta["params"] as? Int)
    // conv1 28·28·9·32 + conv2 14·14·288·64 + fc1 3136·64 + fc2 64·10
    XCTAssertEqual(report["totalMACs"] as? Int, 225_792 + 3_612_672 + 200_704 + 640)
  }

  func testTableListsEveryLayer() throws {
    let r = try CLI.run(["inspect", Fixtures.path("keras/dag.keras")])
    XCTAssertEqual(r.status, 0, r.stderr)
    for kind in ["rescaling", "add", "multiply", "concatenate", "reshape"] {
      XCTAssertTrue(r.stdout.contains(kind), "missing \(kind):\n\(r.stdout)")
    }
  }

  func testHelpShowsExamplesAndExitsZero() throws {
    for command in ["inspect", "predict", "eval", "train"] {
      let r = try CLI.run([command, "--help"])
      XCTAssertEqual(r.status, 0, command)
      XCTAssertTrue(r.stdout.contains("Examples:"), "\(command) --help:\n\(r.stdout)")
    }
  }

  /// A model given through a symbolic link is measured by the file it names (every size the
  /// file states was held to the link's own length before), and a pipe is refused at once
  /// (it blocked the decode until the 20 s timeout).
  func testALinkedModelLoadsAndAPipeIsAnErrorAtOnce() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let link = dir.path("linked.h5")
    try FileManager.default.createSymbolicLink(
      atPath: link, withDestinationPath: Fixtures.path("keras/mlp.h5"))
    let linked = try CLI.run(["inspect", link])
    XCTAssertEqual(linked.status, 0, linked.stderr)
    let pipe = dir.path("pipe.h5")
    XCTAssertEqual(mkfifo(pipe, 0o600), 0)
    let started = Date()
    let piped = try CLI.run(["inspect", pipe], timeout: 60)
    XCTAssertEqual(piped.status, 1, piped.stderr)
    XCTAssertTrue(piped.stderr.contains("error: \(pipe): is not a regular file"), piped.stderr)
    XCTAssertLessThan(Date().timeIntervalSince(started), 15, "refused before the decode child's timeout")
  }

  /// The decode child that does not finish in time is killed and the command fails (here with
  /// a 0 s limit on a good file: the HDF5 hang this guards against has its own check now).
  func testADecodeThatDoesNotFinishInTimeEndsTheCommandWithAnError() throws {
    let r = try CLI.run(
      ["inspect", Fixtures.path("keras/mlp.h5")], environment: ["ADASCALE_DECODE_TIMEOUT_S": "0"], timeout: 60
    )
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertTrue(r.stderr.contains("decoding did not finish within 0 s"), r.stderr)
  }

  /// The decode child hands the error it found to the command (JSON in `--error-file`), which
  /// reports it without decoding the damaged file a second time.
  func testTheDecodeChildHandsOverTheErrorItFound() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let model = dir.path("truncated.h5")
    try Data(contentsOf: Fixtures.url("keras/mlp.h5")).prefix(20_000).write(to: URL(fileURLWithPath: model))
    let errorFile = dir.path("error.json")
    let child = try CLI.run(["decode-check", "model", model, "--error-file", errorFile])
    XCTAssertEqual(child.status, 1, child.stderr)
    let error = try JSONDecoder().decode(
      AdaError.self, from: Data(contentsOf: URL(fileURLWithPath: errorFile)))
    XCTAssertEqual(error.file, model)
    let command = try CLI.run(["inspect", model])
    XCTAssertEqual(command.status, 1)
    XCTAssertTrue(command.stderr.contains("error: \(error.description)"), command.stderr)
  }
}
