import AdaCompress
import AdaNN
import AdaTensor
import XCTest

@testable import AdaRecipe

/// The `exits:` section: defaults, every key, and located errors.
final class RecipeExitsTests: XCTestCase {
  func testAbsentOrNoneMeansNoExits() throws {
    XCTAssertNil(try RecipeText.parse(extending: "").exits)
    XCTAssertNil(try RecipeText.parse(extending: "exits: none\n").exits)
  }

  func testDefaults() throws {
    let e = try XCTUnwrap(RecipeText.parse(extending: "exits: {}\n").exits)
    XCTAssertEqual(e.after, .auto)
    XCTAssertEqual(e.head, .auto)
    XCTAssertEqual(e.confidence, .maxSoftmax)
    XCTAssertEqual(e.accuracyDrops, [0, 0.005, 0.01, 0.02])
    XCTAssertEqual(e.budgets, [0.3, 0.5, 0.7])
    XCTAssertEqual(e.variants, .all)
    XCTAssertEqual(
      e.targets.map(\.name),
      ["drop-0", "drop-0.5", "drop-1", "drop-2", "budget-0.3", "budget-0.5", "budget-0.7"])
  }

  func testEveryKey() throws {
    let e = try XCTUnwrap(
      RecipeText.parse(
        extending: """
          exits:
            after: [conv1, conv2]
            head: grid:2
            confidence: entropy
            operating-points: {accuracy-drops: [0.01], budgets: [0.4]}
            epochs: 2
            batch-size: 64
            learning-rate: 0.01
            alpha: 0.3
            temperature: 4
            train-examples: 5000
            seed: 3
            variants: 2

          """
      ).exits)
    XCTAssertEqual(e.after, .named(["conv1", "conv2"]))
    XCTAssertEqual(e.head, .fixed(.grid(2)))
    XCTAssertEqual(e.confidence, .entropy)
    XCTAssertEqual(e.accuracyDrops, [0.01])
    XCTAssertEqual(e.budgets, [0.4])
    XCTAssertEqual(e.training.epochs, 2)
    XCTAssertEqual(e.training.batchSize, 64)
    XCTAssertEqual(e.training.alpha, 0.3)
    XCTAssertEqual(e.training.temperature, 4)
    XCTAssertEqual(e.training.examples, 5000)
    XCTAssertEqual(e.training.seed, 3)
    XCTAssertEqual(e.variants, .largest(2))
    XCTAssertEqual(
      try RecipeText.parse(extending: "exits: {variants: [v01, v03]}\n").exits?.variants,
      .named(["v01", "v03"]))
    let listed = try RecipeText.parse(extending: "exits: {head: [gap, 'grid:4', 'conv:16:2']}\n").exits?.head
    XCTAssertEqual(listed, .choose([.gap, .grid(4), .conv(16, grid: 2)]))
    XCTAssertEqual(listed?.forms.count, 3)
  }

  func testMistakesAreLocated() {
    assertRecipeError(extending: "exits:\n  head: pool\n", "t.yaml:7: exits.head: unknown exit head 'pool'")
    assertRecipeError(extending: "exits:\n  head: grid:0\n", "t.yaml:7: exits.head: the grid size must be")
    assertRecipeError(extending: "exits:\n  after: conv1\n", "t.yaml:7: exits.after: expected auto or a list")
    assertRecipeError(
      extending: "exits:\n  confidence: margin\n", "t.yaml:7: exits.confidence: unknown value 'margin'")
    assertRecipeError(
      extending: "exits:\n  operating-points: {budgets: [1.5]}\n",
      "exits.operating-points.budgets[0]: expected a number in (0, 1]")
    assertRecipeError(
      extending: "exits:\n  operating-points: {accuracy-drops: [], budgets: []}\n",
      "exits.operating-points: expected at least one accuracy drop or budget")
    assertRecipeError(extending: "exits:\n  alpha: 2\n", "t.yaml:7: exits.alpha: expected a number in [0, 1]")
    assertRecipeError(
      extending: "exits:\n  variants: some\n", "t.yaml:7: exits.variants: expected all, a count")
    assertRecipeError(
      extending: "exits:\n  head: [gap, 'grid:0']\n", "t.yaml:7: exits.head[1]: the grid size must be")
    assertRecipeError(extending: "exits:\n  afterr: auto\n", "t.yaml:7: exits.afterr: unknown key 'afterr'")
  }
}
