import AdaRecipe
import AdaTensor
import Foundation
import XCTest

/// The top-level `budget:` key: the duration syntax of `search.time-budget`, null or absent for
/// none, and located errors for anything else.
final class RecipeBudgetTests: XCTestCase {
  func budget(_ value: String) throws -> Double? {
    try RecipeText.parse(extending: "budget: \(value)\n").budgetSeconds
  }

  func testBudgetAcceptsSecondsUnitsAndNull() throws {
    XCTAssertEqual(try budget("600"), 600)
    XCTAssertEqual(try budget("\"90s\""), 90)
    XCTAssertEqual(try budget("10m"), 600)
    XCTAssertEqual(try budget("1.5h"), 5400)
    XCTAssertEqual(try budget("2.5m"), 150)
    XCTAssertNil(try budget("null"))
    XCTAssertNil(try RecipeText.parse(extending: "").budgetSeconds, "absent: no budget")
  }

  func testBadBudgetsAreLocatedErrors() {
    assertRecipeError(extending: "budget: ten minutes\n", "t.yaml:6: budget: expected a positive duration")
    assertRecipeError(extending: "budget: 0s\n", "t.yaml:6: budget: expected a positive duration")
    assertRecipeError(extending: "budget: -5m\n", "budget: expected a positive duration")
    assertRecipeError(extending: "budget: 10d\n", "budget: expected a positive duration")
    assertRecipeError(extending: "budget: [10m]\n", "t.yaml:6: budget:")
    assertRecipeError(extending: "budgte: 10m\n", "budgte: unknown key 'budgte' (did you mean 'budget'?)")
  }

  func testDurationParsesWhatTheCommandLineTakes() {
    XCTAssertEqual(Recipe.duration("5m"), 300)
    XCTAssertEqual(Recipe.duration(" 20m "), 1200)
    XCTAssertEqual(Recipe.duration("45"), 45)
    XCTAssertNil(Recipe.duration("0"))
    XCTAssertNil(Recipe.duration("m"))
    XCTAssertNil(Recipe.duration("inf"))
    XCTAssertNil(Recipe.duration("nan"))
  }
}
