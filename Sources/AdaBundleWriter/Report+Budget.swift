import AdaBundle
import Foundation

extension Report {
  /// What the wall-clock budget bought: per stage the seconds planned and spent and the work
  /// run against the recipe's limit. Empty without a budget.
  static func budgetSection(_ m: Manifest) -> [String] {
    guard let b = m.budget else { return [] }
    let percent = b.budgetSeconds > 0 ? b.spentSeconds / b.budgetSeconds * 100 : 0
    var out = [
      "## Budget", "",
      "Budget \(duration(b.budgetSeconds)); the run took \(duration(b.spentSeconds)) "
        + String(format: "(%.1f %% of it): ", percent)
        + (b.withinBudget ? "within the budget." : "**over the budget**."),
      "",
    ]
    out += table(
      ["stage", "planned", "spent", "work run", "recipe's limit", "measured"], numeric: [1, 2, 3, 4, 5],
      b.stages.map { s in
        let unit = s.unit ?? ""
        return [
          s.stage, s.plannedSeconds.map(duration) ?? "–", duration(s.spentSeconds),
          s.run.map { "\(grouped($0)) \(unit)" } ?? "–",
          s.recipe.map { "\(grouped($0)) \(unit)" } ?? "–",
          s.secondsPerUnit.map {
            "\(significant($0)) s per \(unit.hasSuffix("s") ? String(unit.dropLast()) : unit)"
          }
            ?? "–",
        ]
      })
    return out + [
      "",
      "Each stage fixed its work from the throughput measured when it started (docs/algorithms.md): "
        + "the plan is stored in the work directory, so a resumed run keeps it. The same recipe, seed "
        + "and plan give the same bundle; a plan made on another machine or under another load differs.",
      "",
    ]
  }
}
