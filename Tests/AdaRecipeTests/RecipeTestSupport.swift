import AdaRecipe
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// Shared pieces of the recipe tests: the repository root (relative recipe paths resolve
/// against it), a minimal valid recipe to extend, and an assertion on located errors.
enum RecipeText {
  /// The repository root: `Tests/Fixtures/../..`.
  static let root = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().path

  /// Five lines; anything appended starts on line 6.
  static let base = """
    name: t
    model:
      architecture: recipes/models/fmnist_cnn.yaml
    dataset:
      source: fashion-mnist

    """

  /// Parses `text` as `t.yaml`, relative paths against the repository root.
  static func parse(_ text: String) throws(AdaError) -> Recipe {
    try Recipe.parse(text: text, file: "t.yaml", baseDirectory: root)
  }

  /// `base` plus `extra` (which starts on line 6).
  static func parse(extending extra: String) throws(AdaError) -> Recipe {
    try parse(base + extra)
  }
}

/// Asserts that parsing `text` fails with an error whose description contains `expected`
/// (which should include `t.yaml:LINE: key.path:`), and, when given, of `kind`.
func assertRecipeError(
  _ text: String, _ expected: String, kind: AdaError.Kind? = nil,
  file: StaticString = #filePath, line: UInt = #line
) {
  do {
    let recipe = try RecipeText.parse(text)
    XCTFail(
      "expected an error containing \"\(expected)\", but the recipe parsed: \(recipe.name)", file: file,
      line: line)
  } catch {
    XCTAssertTrue(
      error.description.contains(expected), "got:      \(error.description)\nexpected: …\(expected)…",
      file: file, line: line)
    if let kind { XCTAssertEqual(error.kind, kind, "\(error.description)", file: file, line: line) }
  }
}

/// `assertRecipeError` on `RecipeText.base + extra`.
func assertRecipeError(
  extending extra: String, _ expected: String, kind: AdaError.Kind? = nil,
  file: StaticString = #filePath, line: UInt = #line
) {
  assertRecipeError(RecipeText.base + extra, expected, kind: kind, file: file, line: line)
}
