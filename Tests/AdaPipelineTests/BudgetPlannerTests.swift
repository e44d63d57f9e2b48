import AdaPipeline
import AdaTensor
import Foundation
import XCTest

/// The budget's arithmetic as pure functions: given measured seconds per step and the seconds a
/// stage may spend, how much work it plans.
final class BudgetPlannerTests: XCTestCase {
  let all: [BudgetPlanner.Stage] = [.baseline, .supernet, .search]

  func testSharesAddUpToWhatRemainsInTheRatioOfTheWeights() {
    for stages in [all, [.supernet, .search], all + [.overhead], [.search]] as [[BudgetPlanner.Stage]] {
      let preview = BudgetPlanner.preview(remaining: 500, stages: stages)
      XCTAssertEqual(preview.map(\.stage), stages)
      XCTAssertEqual(preview.reduce(0) { $0 + $1.seconds }, 500, accuracy: 1e-9, "\(stages)")
      let weights = stages.reduce(0) { $0 + $1.weight }
      for (stage, seconds) in preview {
        XCTAssertEqual(seconds, 500 * stage.weight / weights, accuracy: 1e-9, "\(stage) of \(stages)")
      }
    }
    XCTAssertEqual(BudgetPlanner.preview(remaining: 500, stages: all).map(\.seconds), [125, 250, 125])
  }

  /// A stage that overran leaves less to the ones after it; one that finished early, more.
  func testLaterStagesAbsorbWhatEarlierOnesSpent() {
    let budget = 1000.0
    let reserve = 100.0
    let first = BudgetPlanner.allotment(
      for: .baseline, remaining: BudgetPlanner.remaining(budget: budget, spent: 0, reserve: reserve),
      stages: all)
    XCTAssertEqual(first, (budget - reserve - BudgetPlanner.slackFraction * budget) / 4, accuracy: 1e-9)
    func supernet(afterSpending spent: Double) -> Double {
      BudgetPlanner.allotment(
        for: .supernet, remaining: BudgetPlanner.remaining(budget: budget, spent: spent, reserve: reserve),
        stages: [.supernet, .search])
    }
    XCTAssertEqual(supernet(afterSpending: first), 2 * first, accuracy: 1e-9, "on plan: its own share")
    XCTAssertLessThan(supernet(afterSpending: first + 90), 2 * first)
    XCTAssertGreaterThan(supernet(afterSpending: first - 90), 2 * first)
    XCTAssertEqual(supernet(afterSpending: 2 * budget), 0, "nothing left is zero, not negative")
  }

  /// Property: the plan is the largest step count whose cost fits, found by brute force.
  func testStepsAreTheMostThatFitIncludingEpochEnds() throws {
    var g = SeededGenerator(seed: 7)
    for _ in 0..<200 {
      let perStep = Double(g.next() % 1000 + 1) / 1000
      let stepsPerEpoch = Int(g.next() % 200) + 1
      let epochEnd = Double(g.next() % 20)
      let recipeSteps = Int(g.next() % 2000) + BudgetPlanner.minimumSteps
      let floorCost = BudgetPlanner.trainingSeconds(
        steps: BudgetPlanner.minimumSteps, secondsPerStep: perStep, stepsPerEpoch: stepsPerEpoch,
        epochEndSeconds: epochEnd)
      let seconds = floorCost + Double(g.next() % 3000)
      let planned = try BudgetPlanner.steps(
        fitting: seconds, secondsPerStep: perStep, stepsPerEpoch: stepsPerEpoch, epochEndSeconds: epochEnd,
        recipeSteps: recipeSteps, stage: .supernet)
      let expected = (0...recipeSteps).last {
        BudgetPlanner.trainingSeconds(
          steps: $0, secondsPerStep: perStep, stepsPerEpoch: stepsPerEpoch, epochEndSeconds: epochEnd)
          <= seconds
      }!
      XCTAssertEqual(
        planned, expected, "\(seconds) s at \(perStep) s/step, \(stepsPerEpoch)/epoch + \(epochEnd) s")
      XCTAssertLessThanOrEqual(planned, recipeSteps)
    }
  }

  func testTheRecipesStepsAreAnUpperLimit() throws {
    let planned = try BudgetPlanner.steps(
      fitting: 1e9, secondsPerStep: 0.01, stepsPerEpoch: 843, epochEndSeconds: 3, recipeSteps: 2529,
      stage: .supernet)
    XCTAssertEqual(planned, 2529)
    XCTAssertEqual(
      BudgetPlanner.generations(fitting: 1e9, secondsPerGeneration: 10, factor: 2, recipeGenerations: 10), 10)
  }

  /// 0.1 s per step, 100 steps per epoch, 5 s per epoch end: n steps in e epochs cost 0.1·n + 5·e.
  func testStepsWorkedExample() throws {
    func planned(_ seconds: Double) throws -> Int {
      try BudgetPlanner.steps(
        fitting: seconds, secondsPerStep: 0.1, stepsPerEpoch: 100, epochEndSeconds: 5, recipeSteps: 1000,
        stage: .baseline)
    }
    XCTAssertEqual(try planned(30), 200, "20 + 2 × 5")
    XCTAssertEqual(try planned(29.99), 199, "19.9 + 2 × 5")
    XCTAssertEqual(try planned(20), 100, "10 + 5; a 101st step would open a second epoch: 10.1 + 10")
  }

  /// A budget that buys fewer than `minimumSteps` is an error naming the key and the stage,
  /// with what it would take; a recipe shorter than the minimum needs only its own steps.
  func testATinyBudgetIsAClearError() throws {
    XCTAssertThrowsError(
      try BudgetPlanner.steps(
        fitting: 2, secondsPerStep: 0.2, stepsPerEpoch: 843, epochEndSeconds: 3, recipeSteps: 2529,
        stage: .supernet)
    ) { error in
      let e = error as? AdaError
      XCTAssertEqual(e?.path, "budget")
      XCTAssertTrue(e?.message.contains("supernet stage") ?? false, e?.description ?? "")
      XCTAssertTrue(e?.message.contains("at least 50") ?? false, e?.description ?? "")
      XCTAssertNotNil(e?.hint)
    }
    XCTAssertEqual(
      try BudgetPlanner.steps(
        fitting: 2.5, secondsPerStep: 0.2, stepsPerEpoch: 10, epochEndSeconds: 0, recipeSteps: 10,
        stage: .supernet), 10)
  }

  func testGenerationsCountTheInitialOneAndTheRandomComparison() {
    // 100 s, the initial generation took 10 s, random search doubles it: 5 generations in all.
    XCTAssertEqual(
      BudgetPlanner.generations(fitting: 100, secondsPerGeneration: 10, factor: 2, recipeGenerations: 10), 4)
    XCTAssertEqual(
      BudgetPlanner.generations(fitting: 100, secondsPerGeneration: 10, factor: 1, recipeGenerations: 10), 9)
    XCTAssertEqual(
      BudgetPlanner.generations(fitting: 5, secondsPerGeneration: 10, factor: 2, recipeGenerations: 10), 0,
      "the initial generation always runs; no more")
    XCTAssertEqual(
      BudgetPlanner.generations(fitting: 100, secondsPerGeneration: 10, factor: 1, recipeGenerations: 3), 3)
  }

  func testEmitReserveCoversEveryVariantWithAMargin() {
    XCTAssertEqual(
      BudgetPlanner.emitReserve(variants: 8, secondsPerVariant: 3, finetuneSecondsPerVariant: 1),
      8 * 4 * BudgetPlanner.reserveMargin, accuracy: 1e-9)
    // The fine-tuning part is capped at 0.3 of the budget: 8 × 100 s × 1.1 = 880 s > 180 s.
    XCTAssertEqual(
      BudgetPlanner.emitReserve(
        variants: 8, secondsPerVariant: 3, finetuneSecondsPerVariant: 100, budget: 600),
      8 * 3 * BudgetPlanner.reserveMargin + 180, accuracy: 1e-9)
  }

  func testFineTuneEpochsAreTheMostThatFitUpToTheRecipes() {
    // 300 s / (60 s × 1.1) = 4.5: four epochs.
    XCTAssertEqual(BudgetPlanner.finetuneEpochs(fitting: 300, secondsPerEpoch: 60, recipeEpochs: 10), 4)
    XCTAssertEqual(BudgetPlanner.finetuneEpochs(fitting: 3000, secondsPerEpoch: 60, recipeEpochs: 10), 10)
    XCTAssertEqual(BudgetPlanner.finetuneEpochs(fitting: 50, secondsPerEpoch: 60, recipeEpochs: 10), 0)
    XCTAssertEqual(BudgetPlanner.finetuneEpochs(fitting: -5, secondsPerEpoch: 60, recipeEpochs: 10), 0)
  }

  func testDurationsReadAsTheRecipeWritesThem() {
    XCTAssertEqual(BudgetPlanner.describe(seconds: 600), "10m")
    XCTAssertEqual(BudgetPlanner.describe(seconds: 90), "1.5m")
    XCTAssertEqual(BudgetPlanner.describe(seconds: 45), "45s")
    XCTAssertEqual(BudgetPlanner.describe(seconds: 5400), "1.5h")
  }
}
