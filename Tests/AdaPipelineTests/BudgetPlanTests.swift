import AdaPipeline
import AdaTensor
import Foundation
import XCTest

/// The plan stored in the work directory: written and read back unchanged, matched against the
/// budget and recipe it was made for, and a broken file is a located error.
final class BudgetPlanTests: XCTestCase {
  var directory = ""

  override func setUpWithError() throws {
    directory = NSTemporaryDirectory() + "adascale-plan-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

  func testPlanRoundTripsThroughItsFile() throws {
    var plan = BudgetPlan(budgetSeconds: 600, recipeHash: "abc")
    plan.supernet = BudgetPlan.Stage(
      allottedSeconds: 255, planned: 1234, recipe: 2529, secondsPerUnit: 0.183, estimatedSeconds: 240)
    plan.emitReserveSeconds = 42
    let path = directory + "/" + BudgetPlan.fileName
    try plan.write(to: path)
    XCTAssertEqual(try BudgetPlan.read(path), plan)
    XCTAssertTrue(plan.matches(budgetSeconds: 600, recipeHash: "abc"))
    XCTAssertFalse(plan.matches(budgetSeconds: 300, recipeHash: "abc"))
    XCTAssertFalse(plan.matches(budgetSeconds: 600, recipeHash: "abd"))
    let text = try String(contentsOfFile: path, encoding: .utf8)
    XCTAssertTrue(text.contains("\"budget_s\" : 600"), text)
  }

  func testMissingPlanIsNilAndABrokenOneNamesTheFile() throws {
    XCTAssertNil(try BudgetPlan.read(directory + "/none.json"))
    let path = directory + "/bad.json"
    try "{\"format\": 3".write(toFile: path, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try BudgetPlan.read(path)) { error in
      XCTAssertEqual((error as? AdaError)?.kind, .badFormat)
      XCTAssertEqual((error as? AdaError)?.file, path)
    }
  }
}
