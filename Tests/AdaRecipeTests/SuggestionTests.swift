import AdaRecipe
import XCTest

final class SuggestionTests: XCTestCase {
  func testSuggestionsFindTyposAndIgnoreUnrelatedWords() {
    XCTAssertEqual(Suggestion.distance("low-rnak", "low-rank"), 1)
    XCTAssertEqual(Suggestion.distance("", "abc"), 3)
    XCTAssertEqual(Suggestion.distance("kitten", "sitting"), 3)
    XCTAssertEqual(Suggestion.closest(to: "widht", among: ["blocks", "widths", "bits"]), "widths")
    XCTAssertEqual(
      Suggestion.closest(to: "Raspbery-Pi-4", among: ["host", "raspberry-pi-4"]), "raspberry-pi-4")
    XCTAssertNil(Suggestion.closest(to: "cifar10", among: ["fashion-mnist", "fmnist"]))
    XCTAssertEqual(Suggestion.didYouMean("zzz", among: ["bits"]), "")
  }

  func testTranspositionsCountAsOneEditAndCaseIsIgnored() {
    XCTAssertEqual(Suggestion.distance("ab", "ba"), 1)
    XCTAssertEqual(Suggestion.distance("abc", "abc"), 0)
    XCTAssertEqual(Suggestion.closest(to: "NSGA2", among: ["random", "nsga2"]), "nsga2")
    XCTAssertNil(Suggestion.closest(to: "x", among: ["x"]), "the word itself is not a suggestion")
  }
}
