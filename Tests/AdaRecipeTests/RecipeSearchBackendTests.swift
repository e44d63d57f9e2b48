import AdaIO
import AdaRecipe
import XCTest

/// `search.backend` and `search.ray-address` (docs/recipes.md, docs/scale.md).
final class RecipeSearchBackendTests: XCTestCase {
  func testBackendDefaultsToLocal() throws {
    let r = try RecipeText.parse(extending: "")
    XCTAssertEqual(r.search.backend, .local)
    XCTAssertNil(r.search.rayAddress)
  }

  func testRayBackendWithAndWithoutAnAddress() throws {
    let r = try RecipeText.parse(extending: "search:\n  backend: ray\n  ray-address: 127.0.0.1:6390\n")
    XCTAssertEqual(r.search.backend, .ray)
    XCTAssertEqual(r.search.rayAddress, "127.0.0.1:6390")
    let bare = try RecipeText.parse(extending: "search:\n  backend: ray\n")
    XCTAssertEqual(bare.search.backend, .ray)
    XCTAssertNil(bare.search.rayAddress)
  }

  func testUnknownBackendIsNamedWithTheChoices() {
    assertRecipeError(
      extending: "search:\n  backend: rays\n",
      "t.yaml:7: search.backend: unknown value 'rays' (did you mean 'ray'?); expected one of: local, ray")
  }

  func testRayAddressNeedsTheRayBackendAndHostPort() {
    assertRecipeError(
      extending: "search:\n  ray-address: 127.0.0.1:6390\n",
      "search.ray-address: a Ray address needs search.backend: ray (search.backend is local)")
    assertRecipeError(
      extending: "search:\n  backend: ray\n  ray-address: localhost\n",
      "search.ray-address: expected a Ray cluster address host:port (e.g. 127.0.0.1:6379), found 'localhost'")
    assertRecipeError(
      extending: "search:\n  backend: ray\n  ray-address: \"h:70000\"\n", "found 'h:70000'")
  }

  func testAddressSyntax() {
    XCTAssertTrue(Recipe.SearchSpec.isRayAddress("127.0.0.1:6379"))
    XCTAssertTrue(Recipe.SearchSpec.isRayAddress("head.cluster:1"))
    for bad in ["", ":6379", "host:", "host:0", "host:65536", "host:x", "a b:1", "host"] {
      XCTAssertFalse(Recipe.SearchSpec.isRayAddress(bad), bad)
    }
  }
}
