extension Manifest {
  /// What a wall-clock budget (recipe `budget:`, `--budget`) bought: per stage the seconds it
  /// was given and spent, and the work run against the recipe's limits (docs/bundle.md).
  /// Absent from bundles made without a budget.
  public struct Budget: Codable, Hashable, Sendable {
    /// The budget, seconds.
    public var budgetSeconds: Double
    /// Wall-clock seconds of the run that wrote the bundle, from the start of the pipeline to
    /// the bundle written (a resumed run counts from its own start).
    public var spentSeconds: Double
    /// `spent_s ≤ budget_s`.
    public var withinBudget: Bool
    /// baseline (when trained), supernet, search, emit, overhead (when measured), then `other`:
    /// loading data, scoring and profiling the source, writing the bundle.
    public var stages: [BudgetStage]

    public init(budgetSeconds: Double, spentSeconds: Double, stages: [BudgetStage]) {
      self.budgetSeconds = budgetSeconds
      self.spentSeconds = spentSeconds
      self.withinBudget = spentSeconds <= budgetSeconds
      self.stages = stages
    }

    enum CodingKeys: String, CodingKey {
      case budgetSeconds = "budget_s", spentSeconds = "spent_s", withinBudget = "within_budget", stages
    }
  }

  /// One stage under a budget. Training stages count optimizer `steps`, the search counts
  /// `generations` after the initial one, emit counts `variants`, overhead `epochs`.
  public struct BudgetStage: Codable, Hashable, Sendable {
    public var stage: String
    /// Seconds the stage was given when it was planned (for emit: the reserve kept for it); nil
    /// when the budget does not plan it (`other`).
    public var plannedSeconds: Double?
    /// Seconds it took in this run.
    public var spentSeconds: Double
    public var unit: String?
    /// Work planned, in `unit`.
    public var planned: Int?
    /// Work actually run (over every session of a resumed run).
    public var run: Int?
    /// The recipe's limit in `unit` (epochs × steps per epoch, `search.generations`, …).
    public var recipe: Int?
    /// Measured seconds per unit the plan was made from (for the search: the initial generation).
    public var secondsPerUnit: Double?

    public init(
      stage: String, plannedSeconds: Double?, spentSeconds: Double, unit: String? = nil, planned: Int? = nil,
      run: Int? = nil, recipe: Int? = nil, secondsPerUnit: Double? = nil
    ) {
      self.stage = stage
      self.plannedSeconds = plannedSeconds
      self.spentSeconds = spentSeconds
      self.unit = unit
      self.planned = planned
      self.run = run
      self.recipe = recipe
      self.secondsPerUnit = secondsPerUnit
    }

    enum CodingKeys: String, CodingKey {
      case stage, plannedSeconds = "planned_s", spentSeconds = "spent_s", unit, planned, run, recipe
      case secondsPerUnit = "seconds_per_unit"
    }
  }
}
