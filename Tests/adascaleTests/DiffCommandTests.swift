import AdaBundle
import Foundation
import TestSupport
import XCTest

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// `adascale diff` on two real bundles of `TinyCompress`'s recipe that differ in their search seed: a
/// gate that holds passes, one that does not exits with 3 naming itself, and the JUnit file is
/// what CI systems parse.
final class DiffCommandTests: XCTestCase {
  var dir: URL!
  var directory: String { dir.path }

  override func setUp() { dir = Fixtures.temporaryDirectory("adascale-diff") }
  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  /// A bundle of `TinyCompress`'s recipe with search seed `seed`, gated by the recipe.
  func compress(seed: Int, output: String) throws {
    let tiny = try TinyCompress(directory: directory)
    let path = try tiny.recipe(
      "recipe-\(seed)", output: output, seed: seed, extra: "gates: {min-variants: 1, max-accuracy-drop: 1.0}")
    let r = try CLI.run(tiny.arguments(path), timeout: 600)
    XCTAssertEqual(r.status, 0, r.stderr)
    // Standard error is a pipe here: plain lines stamped with the elapsed time, no redraws.
    let lines = r.stderr.split(separator: "\n")
    XCTAssertFalse(lines.isEmpty)
    XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("[+00:") }, r.stderr)
    XCTAssertFalse(r.stderr.contains("\r"), "no progress bar redraws in a log")
  }

  func testGatesPassAndFailWithExitCodeThreeAndAJUnitFile() throws {
    let (a, b) = (directory + "/a", directory + "/b")
    try compress(seed: 0, output: a)
    try compress(seed: 1, output: b)

    let pass = try CLI.run([
      "diff", a, b, "--recipe", directory + "/recipe-1.yaml", "--markdown", directory + "/summary.md",
      "--json",
    ])
    XCTAssertEqual(pass.status, 0, pass.stderr)
    let report = try JSONSerialization.jsonObject(with: Data(pass.stdout.utf8)) as! [String: Any]
    XCTAssertEqual(report["passed"] as? Bool, true)
    let gates = report["gates"] as! [[String: Any]]
    XCTAssertEqual(
      gates.map { $0["gate"] as! String }, ["max-accuracy-drop", "min-variants"], "from the recipe")
    let pairs = (report["diff"] as! [String: Any])["pairs"] as! [[String: Any]]
    XCTAssertFalse(pairs.isEmpty)
    let summary = try String(contentsOfFile: directory + "/summary.md", encoding: .utf8)
    XCTAssertTrue(summary.contains("| `min-variants` | pass |"), summary)

    let junit = directory + "/gates.xml"
    let fail = try CLI.run([
      "diff", a, b, "--min-variants", "10", "--max-accuracy-drop", "1", "--junit", junit,
    ])
    XCTAssertEqual(fail.status, 3, fail.stderr)
    // The bundle holds 2 variants on a quiet machine; under heavy load the seed-1 front can hold 1.
    XCTAssertNotNil(
      fail.stderr.range(
        of: #"gate failed: min-variants: [12] variants, at least 10 required"#, options: .regularExpression),
      fail.stderr)
    let cases = try JUnitCases.parse(URL(fileURLWithPath: junit))
    XCTAssertEqual(cases.suites, 1)
    XCTAssertEqual(cases.tests, 2)
    XCTAssertEqual(cases.declaredFailures, 1)
    XCTAssertEqual(cases.failed, ["min-variants"], "one testcase per gate, a <failure> in the failed one")
    XCTAssertEqual(cases.names, ["max-accuracy-drop", "min-variants"])

    let missing = try CLI.run(["diff", a, directory + "/nowhere"])
    XCTAssertEqual(missing.status, 1, "a missing bundle is a user error, not a failed gate")
  }
}

/// The parts of a JUnit XML file that CI systems read (the Ant JUnit schema's
/// testsuites/testsuite/testcase/failure), parsed with Foundation's XMLParser.
final class JUnitCases: NSObject, XMLParserDelegate {
  var suites = 0
  var tests = 0
  var declaredFailures = 0
  var names: [String] = []
  var failed: [String] = []
  var errors: [String] = []
  private var stack: [String] = []

  static func parse(_ url: URL) throws -> JUnitCases {
    let cases = JUnitCases()
    let parser = try XCTUnwrap(XMLParser(contentsOf: url))
    parser.delegate = cases
    XCTAssertTrue(parser.parse(), "well-formed XML: \(String(describing: parser.parserError))")
    XCTAssertTrue(cases.errors.isEmpty, cases.errors.joined(separator: "; "))
    return cases
  }

  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    let parent = stack.last
    switch name {
    case "testsuites": if parent != nil { errors.append("testsuites inside \(parent!)") }
    case "testsuite":
      suites += 1
      if parent != nil && parent != "testsuites" { errors.append("testsuite inside \(parent!)") }
      for key in ["name", "tests", "failures"] where attributes[key] == nil {
        errors.append("testsuite lacks \(key)")
      }
      tests += Int(attributes["tests"] ?? "") ?? 0
      declaredFailures += Int(attributes["failures"] ?? "") ?? 0
    case "testcase":
      if parent != "testsuite" { errors.append("testcase inside \(parent ?? "nothing")") }
      guard let n = attributes["name"], attributes["classname"] != nil else {
        errors.append("testcase lacks name or classname")
        break
      }
      names.append(n)
    case "failure":
      if parent != "testcase" { errors.append("failure inside \(parent ?? "nothing")") }
      if attributes["message"] == nil { errors.append("failure lacks message") }
      if let n = names.last { failed.append(n) }
    case "system-out": break
    default: errors.append("unexpected element \(name)")
    }
    stack.append(name)
  }

  func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?)
  {
    stack.removeLast()
  }
}
