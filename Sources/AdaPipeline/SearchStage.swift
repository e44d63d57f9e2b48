import AdaCompress
import AdaProfile
import AdaRecipe
import AdaSearch
import AdaTensor
import Foundation

/// Runs the recipe's search over a trained supernet (checkpointed in
/// `<work>/search-<problem identity>.json`, resumable), and optionally random search at the same evaluation budget for comparison.
/// Under a budget the initial generation runs first; its time fixes how many generations follow.
enum SearchStage {
  struct Result {
    var search: SearchResult
    var random: SearchResult?
    var reference: HypervolumeReference
    var seconds: Double
    /// The budget's plan (nil without a budget).
    var plan: BudgetPlan.Stage?
  }

  /// The search objective a recipe objective names.
  static func objective(_ o: Recipe.SearchSpec.Objective) -> SearchObjective {
    switch o {
    case .accuracy: .accuracy
    case .latency: .latency
    case .energy: .energy
    case .memory: .memory
    }
  }

  /// A fixed hypervolume box, the same for every algorithm: accuracy from `floor` up to 1,
  /// each cost from 110% of the largest configuration's down to 0.
  static func reference(
    objectives: [SearchObjective], floor: Double, largest: CandidateMetrics
  ) -> HypervolumeReference {
    HypervolumeReference(
      nadir: objectives.map { $0 == .accuracy ? floor : 1.1 * largest.value(of: $0) },
      ideal: objectives.map { $0 == .accuracy ? 1 : 0 })
  }

  static func run(
    _ recipe: Recipe, problem: SupernetSearchProblem, reference: HypervolumeReference, compareRandom: Bool,
    checkpoint: String, budget: BudgetRun? = nil, log: PipelineLog
  ) throws(AdaError) -> Result {
    let s = recipe.search
    let started = Date()
    let codec = problem.codec
    log.stage(
      "search: \(s.algorithm.rawValue) over \(codec.space.genes.count) genes "
        + "(\(String(format: "%.3g", codec.space.size)) configurations), population \(s.population), "
        + "\(s.generations) generations\(s.timeBudgetSeconds.map { ", budget \(Int($0)) s" } ?? ""), "
        + "\(problem.workers) workers")
    let progress: (GenerationReport) -> Void = { log.detail($0.description) }
    let search: SearchResult
    var plan: BudgetPlan.Stage?
    var compareRandom = compareRandom && s.algorithm == .nsga2
    switch s.algorithm {
    case .nsga2:
      if FileManager.default.fileExists(atPath: checkpoint) {
        log.stage("search: resuming from \(checkpoint)")
      }
      func config(_ generations: Int, _ timeBudget: Double?) -> NSGA2Config {
        NSGA2Config(
          population: s.population, generations: generations, timeBudgetSeconds: timeBudget, seed: s.seed,
          seedGenomes: [codec.encode(codec.supernet.largest), codec.encode(codec.supernet.smallest)],
          hypervolumeReference: reference)
      }
      var generations = s.generations
      var timeBudget = s.timeBudgetSeconds
      if let budget {
        // The initial generation alone (checkpointed; the full run resumes from it).
        var initial = budget.plan.search?.secondsPerUnit
        if initial == nil {
          initial =
            try NSGA2(config: config(0, nil)).run(
              problem, checkpoint: checkpoint, resume: true, progress: progress
            ).history.first?.elapsedSeconds ?? 0
        }
        let planned = try budget.planSearch(
          recipeGenerations: s.generations, recipeTimeBudget: s.timeBudgetSeconds,
          initialSeconds: initial ?? 0, compareRandom: compareRandom)
        generations = planned.plan.planned
        timeBudget = planned.deadline
        compareRandom = planned.compareRandom
        plan = planned.plan
      }
      search = try NSGA2(config: config(generations, timeBudget)).run(
        problem, checkpoint: checkpoint, resume: true, progress: progress)
    case .random:
      var generations = s.generations
      if let budget {
        let started = ContinuousClock.now
        if budget.plan.search == nil {
          _ = try RandomSearch.run(
            problem, evaluations: s.population, seed: s.seed, batchSize: s.population, reference: reference,
            progress: progress)
        }
        let planned = try budget.planSearch(
          recipeGenerations: s.generations, recipeTimeBudget: nil,
          initialSeconds: budget.plan.search?.secondsPerUnit ?? BudgetProbe.seconds(since: started),
          compareRandom: false)
        generations = planned.plan.planned
        plan = planned.plan
      }
      // Under a budget the first batch repeats the one timed above: the memo scores it at once.
      search = try RandomSearch.run(
        problem, evaluations: s.population * (generations + 1), seed: s.seed, batchSize: s.population,
        reference: reference, progress: progress)
    }
    var random: SearchResult?
    if compareRandom {
      log.stage("search: random search at the same budget (\(search.evaluations) evaluations) for comparison")
      random = try RandomSearch.run(
        problem, evaluations: search.evaluations, seed: s.seed &+ 1, batchSize: s.population,
        reference: reference, progress: progress)
    }
    let hv = search.hypervolume(reference: reference)
    log.stage(
      String(
        format: "search: %d evaluations, front of %d, hypervolume %.4f%@", search.evaluations,
        search.front.count,
        hv, random.map { String(format: " (random search %.4f)", $0.hypervolume(reference: reference)) } ?? ""
      ))
    return Result(
      search: search, random: random, reference: reference, seconds: Date().timeIntervalSince(started),
      plan: plan)
  }
}
