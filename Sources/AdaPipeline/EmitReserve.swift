import AdaRecipe

/// What a budget keeps for emitting the variants (and their exits), estimated before the emit
/// stage runs: per variant, its test evaluation (sized by the source's: variants spread evenly
/// over log-latency from the fastest to the source cost 0.4 of it on average in the measured
/// runs, 0.45 is kept), its end-to-end latency measurement (4 probe budgets, with warm-up; its ops
/// are in the latency table since the search), and its fine-tuning (a fine-tuning step trains one
/// configuration where a sandwich step trains 2 + random ones, plus the teacher's forward pass:
/// counted as half a sandwich step, or one baseline step; at most `BudgetPlanner.finetuneShare`
/// of the budget, since the emit stage plans the epochs again from the variants' own measured
/// speed). With `exits:`, each variant given exits also costs the exits stage
/// (`ExitStage.reserveSeconds`).
struct EmitReserve {
  let recipe: Recipe
  let probeBudgetMs: Double

  func seconds(testEvaluationSeconds: Double, finetuneSecondsPerEpoch: Double) -> Double {
    var exits = 0.0
    if let spec = recipe.exits {
      let test = recipe.dataset.testLimit ?? 10000
      let share: Double =
        switch spec.variants {
        case .all: 1
        case .largest(let n): min(1, Double(n) / Double(recipe.output.variants))
        case .named(let ids): min(1, Double(ids.count) / Double(recipe.output.variants))
        }
      exits =
        share
        * ExitStage.reserveSeconds(
          spec, testEvaluationSeconds: testEvaluationSeconds,
          trainCount: (recipe.dataset.trainLimit ?? 60000) - recipe.dataset.validation,
          validationCount: recipe.dataset.validation, testCount: test)
    }
    return BudgetPlanner.emitReserve(
      variants: recipe.output.variants,
      secondsPerVariant: 0.45 * testEvaluationSeconds + 6 * probeBudgetMs / 1000 + exits,
      finetuneSecondsPerVariant: Double(recipe.output.finetuneEpochs) * finetuneSecondsPerEpoch,
      budget: recipe.budgetSeconds ?? .infinity)
  }
}
