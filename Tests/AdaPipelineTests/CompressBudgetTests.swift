import AdaBundle
import AdaIO
import AdaPipeline
import AdaRecipe
import AdaTensor
import AdaTrain
import Foundation
import TestSupport
import XCTest

/// `compress` under a budget on the tiny recipe of `CompressPipelineTests`: the plan is stored
/// in the work directory and reported in the manifest and report.md, never exceeds the recipe's
/// limits, and a rerun keeps the stored plan instead of measuring again. No wall-clock
/// assertions: how long the run took is not checked, only what was planned and run.
final class CompressBudgetTests: XCTestCase {
  var directory = ""

  override func setUpWithError() throws {
    directory = NSTemporaryDirectory() + "adascale-budget-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

  /// 440 training examples − 120 validation = 320, batch 32: 10 supernet steps per epoch, 1 epoch.
  static let recipeSupernetSteps = 10

  func run(
    budget: String, output: String, work: String, outputKeys: String = "", extra: String = "",
    log: PipelineLog = .silent
  ) throws -> CompressPipeline.Result {
    let path = directory + "/r.yaml"
    let text = CompressPipelineTests.recipeText(
      output: output, extra: "budget: \(budget)\n\(extra)",
      outputKeys: ", work-directory: \(work)\(outputKeys)")
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return try CompressPipeline.run(
      try Recipe.load(path: path),
      options: CompressPipeline.Options(
        version: "test", overwrite: true, compareRandom: false, probeBudgetMs: 1,
        latencyCache: directory + "/latency"),
      log: log)
  }

  func readPlan(_ work: String) throws -> BudgetPlan {
    try XCTUnwrap(try BudgetPlan.read(work + "/" + BudgetPlan.fileName), "no plan in \(work)")
  }

  /// The fine-tune's epochs are planned when the emit stage starts, from the picked variants'
  /// own measured speed, and stored with the plan; the report says how many each variant got.
  func testFineTuneEpochsArePlannedFromTheVariantsMeasuredSpeed() throws {
    let work = directory + "/f.work"
    let result = try run(
      budget: "1h", output: directory + "/f", work: work, outputKeys: ", finetune-epochs: 2")
    let finetune = try XCTUnwrap(try readPlan(work).finetune)
    XCTAssertEqual(finetune.recipe, 2)
    XCTAssertEqual(finetune.planned, 2, "an hour holds two epochs of three tiny variants")
    XCTAssertGreaterThan(finetune.secondsPerUnit, 0)
    XCTAssertEqual(finetune.estimatedSeconds, 2 * finetune.secondsPerUnit, accuracy: 1e-9)
    XCTAssertTrue(
      result.report.notes.contains { $0.hasPrefix("every variant was fine-tuned 2 epoch(s) (Adam") },
      "\(result.report.notes)")
  }

  /// When the budget leaves no fine-tune epoch, nothing will lift the configurations the slack
  /// let into the search, so the variants are picked again among the front's points at the
  /// recipe's own floor. The first run plans one epoch (and drops picks that miss the floor
  /// after it); the plan is then cut to 0 epochs by hand, as a tight budget would have planned
  /// it, and the rerun (search resumed, same front) ships only configurations at the floor.
  func testWithNoFineTuneEpochLeftTheVariantsComeFromTheFrontAtTheFloor() throws {
    let work = directory + "/p.work"
    let keys = ", finetune-epochs: 1, finetune-slack: 0.3"
    let constraints = "constraints: {max-accuracy-drop: 0.01}"
    let first = LockedLines()
    _ = try run(
      budget: "1h", output: directory + "/p", work: work, outputKeys: keys, extra: constraints,
      log: PipelineLog(write: { first.append($0) }, trainingReporter: SilentReporter()))
    XCTAssertTrue(
      first.all.contains { $0.contains("not shipped, below the floor") },
      "the slack let picks below the floor into the first run: \(first.all)")
    var plan = try readPlan(work)
    XCTAssertEqual(plan.finetune?.planned, 1)
    plan.finetune?.planned = 0
    try plan.write(to: work + "/" + BudgetPlan.fileName)

    let lines = LockedLines()
    let result = try run(
      budget: "1h", output: directory + "/p", work: work, outputKeys: keys, extra: constraints,
      log: PipelineLog(write: { lines.append($0) }, trainingReporter: SilentReporter()))
    let log = lines.all
    XCTAssertTrue(log.contains { $0.contains("no time left to fine-tune") }, "\(log)")
    XCTAssertFalse(log.contains { $0.contains("not shipped") }, "\(log)")
    let recipe = try Recipe.load(path: directory + "/r.yaml")
    let source = try KerasModelReader.load(path: Fixtures.path("keras/fmnist_cnn.h5"))
    let validation = try PipelineData.load(recipe, for: source.graph).searchValidation
    let floor =
      try Trainer.evaluate(source, on: validation, batchSize: 60, objective: ClassificationObjective())
      .accuracy - 0.01
    XCTAssertFalse(result.manifest.variants.isEmpty)
    for v in result.manifest.variants {
      XCTAssertGreaterThanOrEqual(v.searchAccuracy, floor - 1e-9, "\(v.id) was picked below the floor")
    }
  }

  /// One test, three runs (each is a whole pipeline): the plan is stored and reported; a rerun
  /// keeps it; another budget replaces it.
  func testPlanIsStoredReportedAndKeptWhenRerun() throws {
    let work = directory + "/a.work"
    let result = try run(budget: "1h", output: directory + "/a", work: work)
    let plan = try readPlan(work)
    XCTAssertEqual(plan.budgetSeconds, 3600)
    let supernet = try XCTUnwrap(plan.supernet)
    let search = try XCTUnwrap(plan.search)
    XCTAssertNil(plan.baseline, "a model.file recipe trains no baseline")
    XCTAssertEqual(supernet.recipe, Self.recipeSupernetSteps)
    XCTAssertLessThanOrEqual(supernet.planned, supernet.recipe)
    XCTAssertGreaterThan(supernet.secondsPerUnit, 0)
    XCTAssertEqual(search.recipe, 2)
    XCTAssertLessThanOrEqual(search.planned, search.recipe)
    XCTAssertNotNil(plan.emitReserveSeconds)

    let budget = try XCTUnwrap(result.manifest.budget)
    XCTAssertEqual(budget.budgetSeconds, 3600)
    XCTAssertEqual(budget.stages.map(\.stage), ["supernet", "search", "emit", "other"])
    let rows = Dictionary(uniqueKeysWithValues: budget.stages.map { ($0.stage, $0) })
    XCTAssertEqual(rows["supernet"]?.planned, supernet.planned)
    XCTAssertEqual(rows["supernet"]?.run, supernet.planned, "the supernet ran exactly the planned steps")
    XCTAssertEqual(rows["supernet"]?.recipe, Self.recipeSupernetSteps)
    XCTAssertEqual(rows["search"]?.run, search.planned, "the search ran exactly the planned generations")
    XCTAssertEqual(rows["emit"]?.run, result.manifest.variants.count)
    XCTAssertEqual(
      budget.stages.reduce(0) { $0 + $1.spentSeconds }, budget.spentSeconds, accuracy: 1e-6,
      "the stages and `other` add up to the whole run")
    XCTAssertEqual(budget.withinBudget, budget.spentSeconds <= budget.budgetSeconds)

    // The manifest round-trips with its budget, and report.md has the section.
    let data = try Data(contentsOf: URL(fileURLWithPath: result.bundle + "/manifest.json"))
    XCTAssertEqual(try JSONDecoder().decode(Manifest.self, from: data).budget, budget)
    let report = try String(contentsOfFile: result.bundle + "/report.md", encoding: .utf8)
    XCTAssertTrue(report.contains("## Budget"), report)
    XCTAssertTrue(report.contains("| supernet |"), report)

    // A rerun with the same budget takes the stored plan as it is (here one shortened by hand,
    // as a slower machine would have planned it): the supernet trains exactly that many steps
    // in its own checkpoint directory, the search runs that many generations, and the plan
    // file is left unchanged.
    var shortened = plan
    shortened.supernet?.planned = 4
    shortened.search?.planned = 1
    try shortened.write(to: work + "/" + BudgetPlan.fileName)
    let stored = try Data(contentsOf: URL(fileURLWithPath: work + "/" + BudgetPlan.fileName))

    let again = try run(budget: "1h", output: directory + "/a", work: work)
    let rerun = Dictionary(
      uniqueKeysWithValues: try XCTUnwrap(again.manifest.budget).stages.map { ($0.stage, $0) })
    XCTAssertEqual(rerun["supernet"]?.planned, 4)
    XCTAssertEqual(rerun["supernet"]?.run, 4)
    XCTAssertEqual(rerun["search"]?.run, 1)
    XCTAssertEqual(again.manifest.search.generations, 1)
    XCTAssertTrue(FileManager.default.fileExists(atPath: work + "/supernet-4-steps/checkpoint.adackpt"))
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: work + "/" + BudgetPlan.fileName)), stored)

    // Another budget is another plan: made afresh, the stored one replaced.
    _ = try run(budget: "2h", output: directory + "/a", work: work)
    XCTAssertEqual(try readPlan(work).budgetSeconds, 7200)
    XCTAssertEqual(try readPlan(work).supernet?.planned, Self.recipeSupernetSteps)
  }
}
