import AdaBundle
import AdaBundleWriter
import AdaCompress
import AdaCore
import AdaFormats
import AdaIO
import AdaNN
import AdaProfile
import AdaRecipe
import AdaSearch
import AdaTensor
import AdaTrain
import Foundation

/// `adascale compress`: the whole AdaScale pipeline for one recipe (design.md §1).
///
/// 1. **Source**: the recipe's Keras model, or a baseline trained from its architecture.
/// 2. **Supernet**: built over the source (blocks, widths, branches, bits, exits) and trained
///    once with the sandwich rule.
/// 3. **Search**: NSGA-II over the supernet's genomes (accuracy from the shared weights,
///    latency/energy/memory from this host's per-op table), under the recipe's constraints.
/// 4. **Emit**: the variants picked from the front, as Keras files with test accuracy, measured
///    latency and lookup-table rows for every device × context; written as one bundle.
///
/// Every long stage checkpoints into the work directory; running the same recipe again
/// resumes where a killed run stopped and ends with the same result.
public enum CompressPipeline {
  public struct Options: Sendable {
    /// adascale version, recorded in the manifest and the latency cache fingerprint.
    public var version: String
    /// Replace an existing bundle at the output directory.
    public var overwrite: Bool
    /// Discard the work directory (checkpoints, trained baseline, latency table) first.
    public var fresh: Bool
    /// Also run random search at the same evaluation budget and report both hypervolumes.
    public var compareRandom: Bool
    /// Measure the training overhead: fine-tune every emitted variant one by one (from its
    /// operator initialisation) until it reaches the bundle's accuracy; report the saving.
    public var measureOverhead: Bool
    /// Per-op latency probe budget, ms.
    public var probeBudgetMs: Double
    /// Directory of the per-op latency table (per machine fingerprint). Op latencies belong to
    /// the machine, not the run, so they outlive `fresh`: two runs of one recipe on one machine
    /// score candidates identically and find the same variants.
    public var latencyCache: String
    /// Where candidates are scored, overriding `search.backend` (nil: the recipe's).
    public var searchBackend: Recipe.SearchSpec.Backend?
    /// The Ray cluster, overriding `search.ray-address` (nil: the recipe's, else
    /// `$ADASCALE_RAY_ADDRESS`).
    public var rayAddress: String?
    /// Ray tasks in flight at once (nil: one per cluster CPU).
    public var rayMaxInFlight: Int?
    /// Genomes per Ray task; 0 (auto): ⌈a generation's new genomes / tasks in flight⌉.
    public var rayChunk: Int

    public init(
      version: String, overwrite: Bool = false, fresh: Bool = false, compareRandom: Bool = true,
      measureOverhead: Bool = false, probeBudgetMs: Double = 40,
      latencyCache: String = LatencyCache.defaultDirectory, searchBackend: Recipe.SearchSpec.Backend? = nil,
      rayAddress: String? = nil, rayMaxInFlight: Int? = nil, rayChunk: Int = 0
    ) {
      self.latencyCache = latencyCache
      self.searchBackend = searchBackend
      self.rayAddress = rayAddress
      self.rayMaxInFlight = rayMaxInFlight
      self.rayChunk = rayChunk
      self.version = version
      self.overwrite = overwrite
      self.fresh = fresh
      self.compareRandom = compareRandom
      self.measureOverhead = measureOverhead
      self.probeBudgetMs = probeBudgetMs
    }
  }

  /// What a run produced.
  public struct Result: Sendable {
    public var bundle: String
    public var manifest: Manifest
    public var report: ReportData
  }

  public static func run(_ recipe: Recipe, options: Options, log: PipelineLog) throws(AdaError) -> Result {
    let started = Date()
    let bundleDirectory = recipe.resolve(recipe.output.directory)
    try checkOutput(bundleDirectory, overwrite: options.overwrite, recipe: recipe)
    let work = try WorkDirectory(
      recipe.resolve(recipe.output.workDirectory), fresh: options.fresh)
    log.stage("recipe \(recipe.name) (\(recipe.file)); work directory \(work.root)")
    do {
      return try runStages(
        recipe, options: options, bundleDirectory: bundleDirectory, work: work, started: started, log: log)
    } catch {
      throw damagedStateHint(error, work: work)
    }
  }

  /// A damaged or foreign file of the work directory (a checkpoint, the search state, a
  /// trained baseline) is reported as it is, with what to do: delete it and that stage starts
  /// over (the result is the same as an uninterrupted run's), or `--fresh`.
  static func damagedStateHint(_ error: AdaError, work: WorkDirectory) -> AdaError {
    guard [.badFormat, .unsupported].contains(error.kind), let file = error.file,
      file.hasPrefix(work.root + "/")
    else { return error }
    var e = error
    e.hint =
      "\(file) is adascale's own intermediate state, damaged or written by another version: "
      + "delete it (that stage starts over) or rerun with --fresh"
    return e
  }

  /// Connects to the Ray cluster the options or recipe name (docs/scale.md), before any
  /// training, so a missing or unreachable cluster fails the run at once.
  static func startRay(_ recipe: Recipe, options: Options, log: PipelineLog) throws(AdaError) -> RaySession {
    let env = ProcessInfo.processInfo.environment["ADASCALE_RAY_ADDRESS"].flatMap { $0.isEmpty ? nil : $0 }
    guard let address = options.rayAddress ?? recipe.search.rayAddress ?? env else {
      throw AdaError(
        .invalidValue, file: recipe.file, path: "search.ray-address",
        "search.backend is ray but no cluster address is given",
        hint: "set search.ray-address (host:port), pass --ray-address or set ADASCALE_RAY_ADDRESS")
    }
    var configuration = try RaySession.Configuration.locate(address: address)
    configuration.maxInFlight = options.rayMaxInFlight
    log.stage("search backend: Ray cluster at \(address) (driver \(configuration.python))")
    let session: RaySession
    do {
      session = try RaySession(configuration)
    } catch {
      throw error.inFile(recipe.file)
    }
    log.stage(
      "search backend: \(session.nodes) node\(session.nodes == 1 ? "" : "s"), \(Int(session.cpus)) CPUs; "
        + "\(options.rayMaxInFlight.map { "\($0) tasks" } ?? "one task per CPU") in flight, "
        + (options.rayChunk == 0
          ? "candidates spread evenly over them"
          : "\(options.rayChunk) candidate\(options.rayChunk > 1 ? "s" : "") per task"))
    return session
  }

  static func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
  }

  /// The stages in order: source, supernet, search, emit, exits, overhead, bundle.
  static func runStages(
    _ recipe: Recipe, options: Options, bundleDirectory: String, work: WorkDirectory, started: Date,
    log: PipelineLog
  ) throws(AdaError) -> Result {
    let session =
      (options.searchBackend ?? recipe.search.backend) == .ray
      ? try startRay(recipe, options: options, log: log) : nil
    defer { session?.close() }
    var budget: BudgetRun?
    if let seconds = recipe.budgetSeconds {
      var stages: [BudgetPlanner.Stage] = [.supernet, .search]
      if case .architecture = recipe.model { stages.insert(.baseline, at: 0) }
      if options.measureOverhead { stages.append(.overhead) }
      budget = try BudgetRun(budgetSeconds: seconds, recipe: recipe, stages: stages, work: work, log: log)
    }
    let reserve = EmitReserve(recipe: recipe, probeBudgetMs: options.probeBudgetMs)

    // 1. Source model and data.
    let source = try SourceStage.run(
      recipe, options: options, work: work, budget: budget, reserve: reserve, log: log)
    let data = source.data

    // 2. Supernet.
    var stageStarted = Date()
    let stepsPerEpoch = Double(data.train.count / recipe.supernet.training.batchSize)
    let (trained, supernetPlan, supernetDirectory) = try SupernetStage.run(
      recipe, source: source.model, data: data, work: work, budget: budget,
      reserve: { secondsPerStep in
        reserve.seconds(
          testEvaluationSeconds: source.testEvaluationSeconds,
          finetuneSecondsPerEpoch: stepsPerEpoch * secondsPerStep * 0.5)
      }, log: log)
    budget?.record(
      "supernet", supernetPlan, unit: "steps", run: trained.position.globalStep,
      spent: Date().timeIntervalSince(stageStarted))
    let supernet = trained.supernet
    let evaluator = SubnetEvaluator(
      supernet: supernet, calibration: data.calibration, batchSize: recipe.supernet.training.batchSize,
      recalibrationBatches: recipe.supernet.training.recalibrationBatches)

    // 3. Search.
    let objectives = recipe.search.objectives.map { SearchStage.objective($0) }
    let rayBackend = session.map { session in
      RayAccuracyBackend(
        session: session,
        spec: SearchWorkerSpec(
          recipe: absolute(recipe.file), source: absolute(source.baseline.file),
          supernet: absolute(supernetDirectory),
          identity: SearchWorker.identity(evaluator: evaluator, validation: data.searchValidation)),
        chunk: options.rayChunk
      ) { log.detail($0) }
    }
    let problem = SupernetSearchProblem(
      codec: GenomeCodec(supernet: supernet), evaluator: evaluator, validation: data.searchValidation,
      objectives: objectives, constraints: source.constraints, profiling: source.profiling,
      hostDevice: source.hostDevice, workers: recipe.search.workers, accuracyBackend: rayBackend,
      status: { _ in })
    let largestCost = try problem.cost(of: supernet.largest)
    let largest = CandidateMetrics(
      accuracy: source.validationAccuracy, latencyMs: largestCost.latencyMs, energyMj: largestCost.energyMj,
      memoryMB: largestCost.memoryMB)
    let floor = max(0, (source.constraints.minAccuracy ?? source.validationAccuracy - 0.2) - 0.05)
    let reference = SearchStage.reference(objectives: objectives, floor: floor, largest: largest)
    stageStarted = Date()
    let searched = try SearchStage.run(
      recipe, problem: problem, reference: reference, compareRandom: options.compareRandom,
      checkpoint: work.path("search-\(problem.identity(constraints: source.constraints)).json"),
      budget: budget, log: log)
    budget?.record(
      "search", searched.plan, unit: "generations", run: searched.search.generations,
      spent: Date().timeIntervalSince(stageStarted))

    // 4. Pick and emit.
    var picked = try VariantSelection.pick(
      from: searched.search, problem: problem, objectives: objectives, recipe: recipe, log: log)
    let emitStarted = Date()
    var emitter = EmitStage(
      recipe: recipe, evaluator: evaluator, data: data, profiling: source.profiling,
      hostDevice: source.hostDevice, modelledDevices: source.devices.filter { !$0.measured },
      accuracyFloor: source.accuracyFloor, finetuneEpochs: recipe.output.finetuneEpochs, log: log)
    if let budget, recipe.output.finetuneEpochs > 0 {
      let others = reserve.seconds(
        testEvaluationSeconds: source.testEvaluationSeconds, finetuneSecondsPerEpoch: 0)
      let probe = emitter
      let plan = try budget.planFinetune(recipeEpochs: recipe.output.finetuneEpochs, otherSeconds: others) {
        () throws(AdaError) in
        var seconds = 0.0
        for candidate in picked { seconds += try probe.finetuneSecondsPerEpoch(candidate) }
        return seconds
      }
      emitter.finetuneEpochs = plan.planned
      if plan.planned == 0, recipe.output.finetuneSlack > 0, let floor = source.accuracyFloor {
        // Nothing will lift the configurations the slack let in: pick among those that hold
        // the floor as they are.
        log.stage(
          "emit: no time left to fine-tune, so the variants come from the front at or above the floor")
        picked = try VariantSelection.pick(
          from: searched.search, problem: problem, objectives: objectives, recipe: recipe,
          accuracyFloor: floor,
          log: log)
      }
    }
    var emitted: [EmitStage.Emitted] = []
    var notShipped: [String] = []
    for candidate in picked {
      if let variant = try emitter.emit(candidate, id: String(format: "v%02d", emitted.count + 1)) {
        emitted.append(variant)
      } else {
        notShipped.append(supernet.summary(candidate.config))
      }
    }
    guard !emitted.isEmpty else {
      let slack = recipe.output.finetuneSlack > 0
      throw AdaError(
        .invalidValue, file: recipe.file, path: slack ? "output.finetune-slack" : "output.finetune-epochs",
        "none of the \(picked.count) picked configurations held the accuracy floor after "
          + (emitter.finetuneEpochs > 0
            ? "a \(emitter.finetuneEpochs)-epoch fine-tune" : "no fine-tune (the budget left none)"),
        hint: slack
          ? "lower output.finetune-slack, or give the run more time or fine-tune epochs"
          : "lower output.finetune-learning-rate, or loosen constraints.max-accuracy-drop")
    }
    let emitSeconds = Date().timeIntervalSince(emitStarted)
    budget?.record(
      Manifest.BudgetStage(
        stage: "emit", plannedSeconds: budget?.plan.emitReserveSeconds, spentSeconds: emitSeconds,
        unit: "variants", planned: recipe.output.variants, run: emitted.count, recipe: recipe.output.variants)
    )

    // 4b. Per-input early exits (docs/exits.md).
    if let spec = recipe.exits {
      stageStarted = Date()
      let count = try ExitStage.addExits(
        spec, to: &emitted, supernet: supernet, data: data, recipeFile: recipe.file,
        profiling: source.profiling, work: work, log: log)
      budget?.record(
        Manifest.BudgetStage(
          stage: "exits", plannedSeconds: nil, spentSeconds: Date().timeIntervalSince(stageStarted),
          unit: "variants", planned: count, run: count, recipe: count))
    }

    let builder = ManifestBuilder(
      recipe: recipe, options: options, source: source, trained: trained, searched: searched,
      reference: reference, emitted: emitted, notShipped: notShipped, finetuneEpochs: emitter.finetuneEpochs,
      emitSeconds: emitSeconds, started: started)
    var overhead: ReportData.TrainingOverhead?
    if options.measureOverhead {
      stageStarted = Date()
      let limit = budget?.allotment(for: .overhead, reserve: 0)
      let measured = try OverheadStage.run(
        recipe, source: source.model, emitted: emitted, supernetSeconds: builder.supernetSeconds, data: data,
        evaluator: evaluator, work: work, limitSeconds: limit, log: log)
      overhead = measured.overhead
      budget?.record(
        Manifest.BudgetStage(
          stage: "overhead", plannedSeconds: limit, spentSeconds: Date().timeIntervalSince(stageStarted),
          unit: "epochs", run: measured.epochs, recipe: OverheadStage.maxEpochs * emitted.count))
    }

    // 5. Bundle.
    let report = builder.report(overhead: overhead)
    let manifest = try builder.manifest(budget: budget?.summary(total: Date().timeIntervalSince(started)))
    try BundleWriter.write(
      builder.contents(manifest: manifest, report: report), to: bundleDirectory, overwrite: options.overwrite)
    log.stage(String(format: "wrote %@ in %.0f s", bundleDirectory, Date().timeIntervalSince(started)))
    budget?.finish(total: Date().timeIntervalSince(started))
    return Result(bundle: bundleDirectory, manifest: manifest, report: report)
  }

  /// Fails before any work when the bundle would be refused at the end.
  static func checkOutput(_ directory: String, overwrite: Bool, recipe: Recipe) throws(AdaError) {
    do {
      try BundleWriter.checkWritable(directory)
    } catch {
      throw AdaError(
        error.kind, file: recipe.file, path: "output.directory", "\(directory): \(error.message)",
        hint: error.hint)
    }
    let fm = FileManager.default
    guard !overwrite, fm.fileExists(atPath: directory),
      let items = try? fm.contentsOfDirectory(atPath: directory), !items.isEmpty
    else { return }
    throw AdaError(
      .invalidValue, file: recipe.file, path: "output.directory",
      "\(directory) already exists and is not empty",
      hint: "pass --overwrite to replace it, or choose another output.directory")
  }
}
