import AdaIO
import AdaTensor
import Foundation

/// The plan a budget made, stored in the work directory (`budget-plan.json`) as each stage
/// fixes its work, so a killed and resumed run keeps the same step and generation counts and
/// ends with the same bundle. A plan made for another budget or another recipe text is
/// replaced (the stages then plan afresh).
///
///     {"format": "adascale-budget-plan", "version": 1, "budget_s": 600, "recipe": "9f3c…",
///      "supernet": {"allotted_s": 255, "planned": 1234, "recipe": 2529, "seconds_per_unit": 0.183,
///                   "estimated_s": 240}, "emit_reserve_s": 42}
public struct BudgetPlan: Codable, Hashable, Sendable {
  public static let fileName = "budget-plan.json"
  static let formatName = "adascale-budget-plan"

  /// One stage's plan.
  public struct Stage: Codable, Hashable, Sendable {
    /// Seconds the stage was given when it was planned.
    public var allottedSeconds: Double
    /// Steps (training) or generations after the initial one (search).
    public var planned: Int
    /// The recipe's limit in the same unit.
    public var recipe: Int
    /// Measured seconds per step, or the initial generation's seconds (search).
    public var secondsPerUnit: Double
    /// Seconds the planned work should take by that measurement.
    public var estimatedSeconds: Double

    public init(
      allottedSeconds: Double, planned: Int, recipe: Int, secondsPerUnit: Double, estimatedSeconds: Double
    ) {
      self.allottedSeconds = allottedSeconds
      self.planned = planned
      self.recipe = recipe
      self.secondsPerUnit = secondsPerUnit
      self.estimatedSeconds = estimatedSeconds
    }

    enum CodingKeys: String, CodingKey {
      case allottedSeconds = "allotted_s", planned, recipe, secondsPerUnit = "seconds_per_unit"
      case estimatedSeconds = "estimated_s"
    }
  }

  public var format = BudgetPlan.formatName
  public var version = 1
  public var budgetSeconds: Double
  /// `Recipe.textHash` of the recipe the plan was made for.
  public var recipeHash: String
  public var baseline: Stage?
  public var supernet: Stage?
  public var search: Stage?
  /// Fine-tune epochs per variant (fixed when the emit stage starts; `secondsPerUnit` is one
  /// epoch of every picked variant together).
  public var finetune: Stage?
  /// Seconds kept for emitting the variants (fixed with the supernet's plan).
  public var emitReserveSeconds: Double?
  /// Whether the search's share affords the random-search comparison (fixed with its plan).
  public var searchComparesRandom: Bool?

  public init(budgetSeconds: Double, recipeHash: String) {
    self.budgetSeconds = budgetSeconds
    self.recipeHash = recipeHash
  }

  enum CodingKeys: String, CodingKey {
    case format, version, budgetSeconds = "budget_s", recipeHash = "recipe", baseline, supernet, search,
      finetune
    case emitReserveSeconds = "emit_reserve_s", searchComparesRandom = "search_compares_random"
  }

  /// Whether this plan was made for `budgetSeconds` and the recipe text hashed `recipeHash`.
  public func matches(budgetSeconds: Double, recipeHash: String) -> Bool {
    self.budgetSeconds == budgetSeconds && self.recipeHash == recipeHash
  }

  /// The plan stored at `path`; nil when there is none.
  ///
  /// - Throws: `AdaError.badFormat` naming the file when it is not a plan.
  public static func read(_ path: String) throws(AdaError) -> BudgetPlan? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    let plan: BudgetPlan
    do {
      plan = try JSONDecoder().decode(BudgetPlan.self, from: data)
    } catch {
      throw AdaError(
        .badFormat, file: path, "not a budget plan: \(error)", hint: "delete it, or rerun with --fresh")
    }
    guard plan.format == formatName, plan.version == 1 else {
      throw AdaError(
        .badFormat, file: path,
        "expected format \(formatName) version 1, found \(plan.format) \(plan.version)")
    }
    return plan
  }

  /// Writes the plan atomically (temporary file, then rename).
  public func write(to path: String) throws(AdaError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
      try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      throw AdaError(.writeFailed, file: path, "cannot write the budget plan: \(error.localizedDescription)")
    }
  }
}
