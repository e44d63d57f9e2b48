import AdaRecipe
import AdaSearch
import AdaTensor

extension VariantSelection {
  /// The variants to emit from the search's front (`pick`), with their configurations decoded
  /// and their predicted latency; only front points at or above `accuracyFloor` when given (the
  /// search's floor was lowered by `output.finetune-slack` but no fine-tune will run). Fails
  /// naming `constraints` when nothing feasible was found.
  static func pick(
    from search: SearchResult, problem: SupernetSearchProblem, objectives: [SearchObjective], recipe: Recipe,
    accuracyFloor: Double? = nil, log: PipelineLog
  ) throws(AdaError) -> [Candidate] {
    let accuracy = objectives.firstIndex(of: .accuracy)!
    var front: [Candidate] = []
    for a in search.front where a.evaluation.objectives[accuracy] >= accuracyFloor ?? -.infinity {
      let config = problem.codec.decode(a.genome)
      front.append(
        Candidate(
          config: config, accuracy: a.evaluation.objectives[accuracy],
          latencyMs: try problem.cost(of: config).latencyMs))
    }
    guard !front.isEmpty else {
      throw AdaError(
        .invalidValue, file: recipe.file, path: "constraints",
        "no configuration the search found meets the constraints (\(problem.constraints))",
        hint: "relax constraints.min-accuracy / max-accuracy-drop / max-latency-ms / max-memory-mb")
    }
    let picked = pick(front, count: recipe.output.variants)
    if picked.count < recipe.output.variants {
      log.detail(
        "the front holds \(front.count) feasible configurations: emitting \(picked.count), not \(recipe.output.variants)"
      )
    }
    log.stage("emit: \(picked.count) variants from a front of \(front.count)")
    return picked
  }
}
