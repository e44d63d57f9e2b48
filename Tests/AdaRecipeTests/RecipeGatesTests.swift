import AdaBundle
import AdaBundleWriter
import AdaRecipe
import XCTest

/// The `gates:` section `adascale diff --recipe` checks (docs/ci.md).
final class RecipeGatesTests: XCTestCase {
  static let head =
    "name: t\nmodel: {architecture: recipes/models/fmnist_cnn.yaml}\ndataset: {source: fmnist}\n"

  func testGatesDecodeAndAreOptional() throws {
    XCTAssertNil(try RecipeText.parse(Self.head).gates)
    let r = try RecipeText.parse(
      Self.head
        + "gates: {max-accuracy-drop: 0.005, max-latency-regression: 0.1, min-variants: 6, max-hypervolume-drop: 0.05}\n"
    )
    XCTAssertEqual(
      r.gates,
      BundleGates(maxAccuracyDrop: 0.005, maxLatencyRegression: 0.1, minVariants: 6, maxHypervolumeDrop: 0.05)
    )
  }

  func testBadGatesAreLocatedErrors() {
    assertRecipeError(
      Self.head + "gates: {min-variants: 0}\n", "t.yaml:4: gates.min-variants: expected an integer ≥ 1")
    assertRecipeError(Self.head + "gates: {max-accuracy-drop: 2}\n", "gates.max-accuracy-drop")
    assertRecipeError(
      Self.head + "gates: {max-latency: 0.1}\n", "gates.max-latency: unknown key 'max-latency'")
  }
}
