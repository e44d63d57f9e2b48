import AdaIO
import AdaNN
import AdaRecipe
import AdaTensor
import XCTest

/// The `dataset` keys that say how examples become model inputs: `resize`, `channels`,
/// `preprocess`, `max-memory` (docs/recipes.md).
final class RecipeDatasetTests: XCTestCase {
  /// Four lines; dataset keys appended start on line 5.
  static let head =
    "name: t\nmodel: {architecture: recipes/models/fmnist_cnn.yaml}\ndataset:\n  source: fmnist\n"

  func testPreparationKeysDecode() throws {
    let r = try RecipeText.parse(
      Self.head
        + "  resize: {size: [32, 40], method: nearest}\n  channels: 3\n  preprocess: torch\n  max-memory: 512MB\n"
    )
    XCTAssertEqual(r.dataset.resize, ImageResize(height: 32, width: 40, method: .nearest))
    XCTAssertEqual(r.dataset.channels, 3)
    XCTAssertEqual(r.dataset.preprocess, .torch)
    XCTAssertEqual(r.dataset.maxMemory, 512 << 20)
    XCTAssertEqual(
      r.dataset.preparation,
      ExamplePreparation(
        resize: ImageResize(height: 32, width: 40, method: .nearest), channels: 3, preprocess: .torch))
  }

  func testSearchExamplesDefaultToEveryValidationExample() throws {
    XCTAssertNil(try RecipeText.parse(Self.head).dataset.searchExamples)
    let r = try RecipeText.parse(Self.head + "  validation: 16000\n  search-examples: 4000\n")
    XCTAssertEqual(r.dataset.validation, 16000)
    XCTAssertEqual(r.dataset.searchExamples, 4000)
  }

  func testDefaultsLeaveExamplesAsTheyAre() throws {
    let r = try RecipeText.parse(Self.head)
    XCTAssertEqual(r.dataset.preparation, .none)
    XCTAssertNil(r.dataset.maxMemory)
    let bilinear = try RecipeText.parse(Self.head + "  resize: {size: [32, 32]}\n")
    XCTAssertEqual(bilinear.dataset.resize?.method, .bilinear)
  }

  func testBadValuesAreLocatedErrors() {
    let cases: [(String, String)] = [
      ("  preprocess: tff\n", "t.yaml:5: dataset.preprocess: unknown value 'tff' (did you mean 'tf'?)"),
      ("  resize: {size: [32]}\n", "dataset.resize.size: expected [height, width], found 1 number(s)"),
      ("  resize: {size: [32, 32], method: bicubic}\n", "dataset.resize.method: unknown value 'bicubic'"),
      ("  resize: {method: pad}\n", "t.yaml:5: dataset.resize: needs size: [height, width]"),
      ("  resize: {size: [32, 0]}\n", "dataset.resize.size[1]: expected an integer ≥ 1, found 0"),
      ("  resize: 32\n", "t.yaml:5: dataset.resize: expected a mapping"),
      ("  resize: {size: [32, 32], mode: pad}\n", "dataset.resize.mode: unknown key 'mode'"),
      ("  channels: 0\n", "t.yaml:5: dataset.channels: expected an integer ≥ 1, found 0"),
      ("  max-memory: lots\n", "t.yaml:5: dataset.max-memory: expected a size such as 2GB"),
      ("  search-examples: 0\n", "t.yaml:5: dataset.search-examples: expected an integer ≥ 1, found 0"),
      (
        "  validation: 100\n  search-examples: 101\n",
        "t.yaml:6: dataset.search-examples: 101 search examples are more than the 100 validation examples"
      ),
    ]
    for (extra, expected) in cases { assertRecipeError(Self.head + extra, expected) }
  }
}
