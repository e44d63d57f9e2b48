import Foundation
import TestSupport
import XCTest

/// `--help` at 80 columns: paragraphs are wrapped by the parser, never broken early by a line
/// break in the source (the next word would have fitted on the line), and no line is wider than
/// the terminal.
final class HelpTextTests: XCTestCase {
  static let commands = [
    [], ["inspect"], ["predict"], ["eval"], ["train"], ["apply"], ["profile"], ["compress"], ["run"],
    ["simulate"], ["exits"], ["mdi"], ["mdi", "plan"], ["mdi", "serve"], ["mdi", "run"], ["replay"], ["diff"],
    ["export"], ["interfere"],
  ]

  /// Examples and other indented lines are kept as written, so each must fit in 80 columns:
  /// the parser would otherwise wrap one into a fragment that looks like text (seen:
  /// `raspberry-pi-4,raspberry-pi-4 \` alone on a line).
  func testIndentedLinesFitIn80Columns() throws {
    for command in Self.commands {
      let r = try CLI.run(command + ["--help"], environment: ["COLUMNS": "400"])
      let name = (["adascale"] + command).joined(separator: " ")
      XCTAssertEqual(r.status, 0, name)
      let lines = r.stdout.components(separatedBy: "\n")
      let end = lines.firstIndex { $0.hasPrefix("USAGE:") } ?? lines.count
      for line in lines[..<end] where line.hasPrefix(" ") {
        XCTAssertLessThanOrEqual(line.count, 80, "\(name): \(line)")
      }
    }
  }

  func testParagraphsAreWrappedByTheParserAt80Columns() throws {
    for command in Self.commands {
      let r = try CLI.run(command + ["--help"], environment: ["COLUMNS": "80"])
      let name = (["adascale"] + command).joined(separator: " ")
      XCTAssertEqual(r.status, 0, name)
      let lines = r.stdout.components(separatedBy: "\n")
      XCTAssertGreaterThan(lines.count, 5, name)
      for line in lines where !line.hasPrefix("USAGE:") {
        XCTAssertLessThanOrEqual(line.count, 80, "\(name): \(line)")
      }
      // The discussion: between OVERVIEW's paragraph and USAGE, unindented lines are paragraph
      // text; a line followed by more of its paragraph must be too full for the next word.
      let end = lines.firstIndex { $0.hasPrefix("USAGE:") } ?? lines.count
      for i in 0..<max(0, end - 1) {
        let line = lines[i]
        let next = lines[i + 1]
        guard !line.isEmpty, !line.hasPrefix(" "), !next.isEmpty, !next.hasPrefix(" ") else { continue }
        let word = next.split(separator: " ").first.map(String.init) ?? ""
        XCTAssertGreaterThan(
          line.count + 1 + word.count, 79, "\(name): '\(line)' is broken before '\(word)', which fits")
      }
    }
  }
}
