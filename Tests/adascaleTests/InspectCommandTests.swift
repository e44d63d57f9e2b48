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
}
