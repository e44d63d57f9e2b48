import AdaTensor
import XCTest

@testable import AdaIO

final class JSONValueTests: XCTestCase {
  func testParsingKeepsKeyOrderAndTypes() throws {
    let v = try JSONValue.parse(
      #"{"z": 1, "a": [true, null, -2.5e-3, "s\u00e9\n"], "m": {"k": false}}"#, file: "c.json", path: nil)
    XCTAssertEqual(v.keys, ["z", "a", "m"])
    XCTAssertEqual(v["z"]?.int, 1)
    XCTAssertEqual(v["a"]?.array?[0], .bool(true))
    XCTAssertEqual(v["a"]?.array?[1], .null)
    XCTAssertEqual(v["a"]?.array?[2].double, -2.5e-3)
    XCTAssertEqual(v["a"]?.array?[3].string, "sé\n")
    XCTAssertEqual(v["m"]?["k"]?.bool, false)
    XCTAssertNil(v["a"]?.array?[2].int, "a fraction is not an int")
  }

  func testPythonNonFiniteLiteralsAreAccepted() throws {
    let v = try JSONValue.parse("[NaN, Infinity, -Infinity]", file: nil, path: nil)
    XCTAssertTrue(v.array![0].double!.isNaN)
    XCTAssertEqual(v.array![1].double, .infinity)
    XCTAssertEqual(v.array![2].double, -.infinity)
  }

  func testWritingRoundTripsAndUsesShortestFloats() throws {
    let v = JSONValue.object([
      "name": .string("a \"q\" \\ \t"), "eps": .decimal(0.001), "n": .int(3),
      "shape": .array([.null, .int(28)]), "on": .bool(true), "empty": .object([]),
    ])
    XCTAssertEqual(
      v.text,
      #"{"name": "a \"q\" \\ \t", "eps": 0.001, "n": 3, "shape": [null, 28], "on": true, "empty": {}}"#)
    XCTAssertEqual(try JSONValue.parse(v.text, file: nil, path: nil), v)
    XCTAssertEqual(
      Float(try JSONValue.parse(JSONValue.decimal(0.99).text, file: nil, path: nil).double!), 0.99)
  }

  func testMalformedJSONIsBadFormatWithTheOffset() {
    for text in [#"{"a": }"#, "[1, 2", #"{"a" 1}"#, "", "[1] x", String(repeating: "[", count: 1000)] {
      XCTAssertThrowsError(try JSONValue.parse(text, file: "m.h5", path: "model_config"), text) { error in
        let e = error as! AdaError
        XCTAssertEqual(e.kind, .badFormat)
        XCTAssertEqual(e.file, "m.h5")
        XCTAssertEqual(e.path, "model_config")
        XCTAssertTrue(e.message.contains("at byte"), e.message)
      }
    }
  }
}
