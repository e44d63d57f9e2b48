import AdaBundle
import AdaCompress
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

    // 1. Source model and data.
    // What a budget keeps for emitting: per variant, its test evaluation (sized by the source's:
    // variants spread evenly over log-latency from the fastest to the source cost 0.4 of it on
    // average in the measured runs, 0.45 is kept), its end-to-end latency measurement (4 probe budgets, with
    // warm-up; its ops are in the latency table since the search), and its fine-tuning
    // (a fine-tuning step trains one configuration where a sandwich step trains 2 + random ones,
    // plus the teacher's forward pass: counted as half a sandwich step, or one baseline step).
    let finetuneEpochs = Double(recipe.output.finetuneEpochs)
    // With `exits:`, each variant given exits also costs the exits stage (ExitStage.reserveSeconds).
    func emitReserve(testEvaluationSeconds: Double, finetuneSecondsPerEpoch: Double) -> Double {
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
        secondsPerVariant: 0.45 * testEvaluationSeconds + 6 * options.probeBudgetMs / 1000 + exits,
        finetuneSecondsPerVariant: finetuneEpochs * finetuneSecondsPerEpoch)
    }
    var stageStarted = Date()
    let baseline = try BaselineStage.run(
      recipe, work: work, budget: budget,
      reserve: { emitReserve(testEvaluationSeconds: $0, finetuneSecondsPerEpoch: $1) }, log: log)
    if case .architecture = recipe.model {
      budget?.record(
        "baseline", baseline.plan, unit: "steps", run: baseline.stepsRun ?? 0,
        spent: Date().timeIntervalSince(stageStarted))
    }
    let source = baseline.model
    let data = try PipelineData.load(recipe, for: source.graph)
    let devices = try recipe.deviceProfiles()
    let hostDevice = devices.first { $0.measured } ?? (try? DeviceCatalog.resolve("host"))
    let probe = ProbeConfig(budgetMs: options.probeBudgetMs, threads: 1)
    let profiling = ProfileOptions(
      probe: probe, cacheDirectory: options.latencyCache, version: options.version, measureEndToEnd: true)
    // Timed: a variant costs at most as much to score, which sizes a budget's emit reserve.
    let sourceStarted = Date()
    let sourceAccuracy = try Trainer.evaluate(
      source, on: data.test, batchSize: 256, objective: ClassificationObjective()
    ).accuracy
    let testEvaluationSeconds = Date().timeIntervalSince(sourceStarted)
    // The source as it would be deployed: batch-norm folded and hand paddings folded into
    // `same` convolutions (the rewrites every variant gets), run by the same executor as the
    // variants, so a speed-up is the compression's alone.
    let deployed = try Deployment.folded(source)
    let sourceProfile = try Profiler.profile(
      graph: deployed.graph, parameters: deployed.parameters, options: profiling)
    let sourceLatency = sourceProfile.measured?.meanMs ?? sourceProfile.predicted.meanMs
    log.stage(
      String(
        format: "source %@: test accuracy %.2f%%, batch-1 latency %.4f ms on this host (as deployed: folded)",
        source.graph.name, sourceAccuracy * 100, sourceLatency))

    let sourceValidation = try Trainer.evaluate(
      source, on: data.searchValidation, batchSize: 256, objective: ClassificationObjective()
    ).accuracy
    let constraints = try searchConstraints(recipe, sourceValidationAccuracy: sourceValidation)

    // 2. Supernet.
    stageStarted = Date()
    let t = recipe.supernet.training
    let stepsPerEpoch = Double(data.train.count / t.batchSize)
    let (trained, supernetPlan, supernetDirectory) = try SupernetStage.run(
      recipe, source: source, data: data, work: work, budget: budget,
      reserve: { secondsPerStep in
        emitReserve(
          testEvaluationSeconds: testEvaluationSeconds,
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
          recipe: absolute(recipe.file), source: absolute(baseline.file),
          supernet: absolute(supernetDirectory),
          identity: SearchWorker.identity(evaluator: evaluator, validation: data.searchValidation)),
        chunk: options.rayChunk
      ) { log.detail($0) }
    }
    let problem = SupernetSearchProblem(
      codec: GenomeCodec(supernet: supernet), evaluator: evaluator, validation: data.searchValidation,
      objectives: objectives, constraints: constraints, profiling: profiling, hostDevice: hostDevice,
      workers: recipe.search.workers, accuracyBackend: rayBackend, status: { _ in })
    let largestCost = try problem.cost(of: supernet.largest)
    let largest = CandidateMetrics(
      accuracy: sourceValidation, latencyMs: largestCost.latencyMs, energyMj: largestCost.energyMj,
      memoryMB: largestCost.memoryMB)
    let reference = SearchStage.reference(
      objectives: objectives, floor: max(0, (constraints.minAccuracy ?? sourceValidation - 0.2) - 0.05),
      largest: largest)
    stageStarted = Date()
    let searched = try SearchStage.run(
      recipe, problem: problem, reference: reference, compareRandom: options.compareRandom,
      checkpoint: work.path("search-\(problem.identity(constraints: constraints)).json"), budget: budget,
      log: log)
    budget?.record(
      "search", searched.plan, unit: "generations", run: searched.search.generations,
      spent: Date().timeIntervalSince(stageStarted))

    // 4. Pick and emit.
    var front: [VariantSelection.Candidate] = []
    for a in searched.search.front {
      let config = problem.codec.decode(a.genome)
      front.append(
        VariantSelection.Candidate(
          config: config, accuracy: a.evaluation.objectives[objectives.firstIndex(of: .accuracy)!],
          latencyMs: try problem.cost(of: config).latencyMs))
    }
    guard !front.isEmpty else {
      throw AdaError(
        .invalidValue, file: recipe.file, path: "constraints",
        "no configuration the search found meets the constraints (\(constraints))",
        hint: "relax constraints.min-accuracy / max-accuracy-drop / max-latency-ms / max-memory-mb")
    }
    let picked = VariantSelection.pick(front, count: recipe.output.variants)
    if picked.count < recipe.output.variants {
      log.detail(
        "the front holds \(front.count) feasible configurations: emitting \(picked.count), not \(recipe.output.variants)"
      )
    }
    log.stage("emit: \(picked.count) variants from a front of \(front.count)")
    let emitStarted = Date()
    let emitter = EmitStage(
      recipe: recipe, evaluator: evaluator, data: data, profiling: profiling, hostDevice: hostDevice,
      modelledDevices: devices.filter { !$0.measured }, log: log)
    var emitted: [EmitStage.Emitted] = []
    for (i, candidate) in picked.enumerated() {
      emitted.append(try emitter.emit(candidate, id: String(format: "v%02d", i + 1)))
    }
    let emitSeconds = Date().timeIntervalSince(emitStarted)
    budget?.record(
      Manifest.BudgetStage(
        stage: "emit", plannedSeconds: budget?.plan.emitReserveSeconds, spentSeconds: emitSeconds,
        unit: "variants", planned: recipe.output.variants, run: emitted.count, recipe: recipe.output.variants)
    )

    // 4b. Per-input early exits (docs/exits.md).
    if let spec = recipe.exits {
      let exitsStarted = Date()
      let ids = try ExitStage.selected(spec.variants, from: emitted.map(\.entry), recipeFile: recipe.file)
      log.stage("exits: heads, training and calibration for \(ids.count) of \(emitted.count) variants")
      let stage = ExitStage(spec: spec, recipeFile: recipe.file, profiling: profiling, log: log)
      for (i, e) in emitted.enumerated() where ids.contains(e.entry.id) {
        let config = e.entry.genome
        let input = ExitStage.Input(
          id: e.entry.id, model: e.payload.model, bits: e.payload.quantized.bitsByNode,
          blocks: ExitStage.blocks(of: supernet, config: config, variant: e.payload.model.graph),
          train: try supernet.inputs(data.train, for: config),
          validation: try supernet.inputs(data.validation, for: config),
          test: try supernet.inputs(data.test, for: config))
        let out = try stage.runResuming(input, quantized: e.payload.quantized, work: work)
        emitted[i].entry.exits = out.plan
        emitted[i].payload.exitModel = out.model
        emitted[i].payload.exitQuantized = out.model == nil ? [:] : e.payload.quantized
      }
      budget?.record(
        Manifest.BudgetStage(
          stage: "exits", plannedSeconds: nil, spentSeconds: Date().timeIntervalSince(exitsStarted),
          unit: "variants", planned: ids.count, run: ids.count, recipe: ids.count))
    }

    var overhead: ReportData.TrainingOverhead?
    if options.measureOverhead {
      stageStarted = Date()
      let limit = budget?.allotment(for: .overhead, reserve: 0)
      let measured = try OverheadStage.run(
        recipe, source: source, emitted: emitted, supernetSeconds: supernetSeconds(trained), data: data,
        evaluator: evaluator, work: work, limitSeconds: limit, log: log)
      overhead = measured.overhead
      budget?.record(
        Manifest.BudgetStage(
          stage: "overhead", plannedSeconds: limit, spentSeconds: Date().timeIntervalSince(stageStarted),
          unit: "epochs", run: measured.epochs, recipe: OverheadStage.maxEpochs * emitted.count))
    }

    // 5. Bundle.
    let report = ReportData(
      history: searched.search.history.map {
        ReportData.Generation(
          generation: $0.generation, evaluations: $0.evaluations, frontSize: $0.frontSize,
          hypervolume: $0.hypervolume)
      },
      randomSearch: searched.random.map {
        ReportData.RandomSearch(
          evaluations: $0.evaluations, hypervolume: $0.hypervolume(reference: reference))
      },
      overhead: overhead, sourceAccuracy: sourceAccuracy, sourceLatencyMs: sourceLatency,
      notes: notes(recipe, trained: trained, searched: searched, compareRandom: options.compareRandom))
    let fingerprint = MachineFingerprint.current(threads: 1, version: options.version)
    let manifest = Manifest(
      toolVersion: options.version, createdAt: ISO8601DateFormatter().string(from: Date()),
      source: Manifest.SourceModel(
        file: baseline.file, sha256: try SHA256.hex(file: baseline.file),
        params: try source.graph.costs().total.params, macs: try source.graph.costs().total.macs,
        accuracy: sourceAccuracy, latencyMs: sourceLatency),
      recipe: Manifest.RecipeInfo(name: recipe.name, file: recipe.file, sha256: SHA256.hex(recipe.text)),
      seed: recipe.search.seed,
      host: Manifest.HostInfo(
        cpu: fingerprint.cpuModel, cores: ProcessInfo.processInfo.activeProcessorCount,
        blas: "OpenBLAS \(fingerprint.blasCore)", threads: 1),
      dataset: Manifest.DatasetInfo(
        name: data.name, trainExamples: data.train.count, validationExamples: data.validation.count,
        searchValidationExamples: data.searchValidation.count < data.validation.count
          ? data.searchValidation.count : nil,
        testExamples: data.test.count),
      timings: Manifest.Timings(
        baselineSeconds: baseline.trainingSeconds, supernetSeconds: supernetSeconds(trained),
        searchSeconds: searched.seconds, emitSeconds: emitSeconds,
        totalSeconds: Date().timeIntervalSince(started)),
      search: Manifest.SearchInfo(
        algorithm: searched.search.algorithm, evaluations: searched.search.evaluations,
        generations: searched.search.generations, paretoSize: searched.search.front.count,
        hypervolume: searched.search.hypervolume(reference: reference)),
      devices: devices.map(\.name),
      contexts: recipe.targets.contexts.map { .init(name: $0.name, context: $0.context) },
      variants: emitted.map(\.entry),
      preprocessing: Manifest.Preprocessing(
        data.preparation, inputShape: source.graph.inputShape, pixels: data.test.storage.holdsPixels),
      budget: budget?.summary(total: Date().timeIntervalSince(started)))
    var table = emitted[0].opTable
    for e in emitted.dropFirst() {
      for row in e.opTable.rows where table.row(key: row.key, device: row.device) == nil {
        table.rows.append(row)
      }
    }
    let contents = BundleContents(
      manifest: manifest, variants: emitted.map(\.payload), lut: LookupTable(rows: emitted.flatMap(\.rows)),
      opsTable: table, report: report, formats: recipe.output.formats)
    try BundleWriter.write(contents, to: bundleDirectory, overwrite: options.overwrite)
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

  /// The recipe's constraints in search terms: an accuracy drop becomes a floor relative to the
  /// source's validation accuracy.
  static func searchConstraints(_ recipe: Recipe, sourceValidationAccuracy: Double) throws(AdaError)
    -> SearchConstraints
  {
    let c = recipe.constraints
    var floor = c.minAccuracy
    if let drop = c.maxAccuracyDrop {
      floor = max(floor ?? 0, sourceValidationAccuracy - drop)
    }
    if let floor, floor > sourceValidationAccuracy {
      throw AdaError(
        .invalidValue, file: recipe.file, path: "constraints.min-accuracy",
        String(
          format:
            "min-accuracy %.4f is above the source model's own validation accuracy %.4f: no variant can meet it",
          floor, sourceValidationAccuracy),
        hint: "lower constraints.min-accuracy")
    }
    return SearchConstraints(minAccuracy: floor, maxLatencyMs: c.maxLatencyMs, maxMemoryMB: c.maxMemoryMB)
  }

  static func supernetSeconds(_ r: SupernetTrainingResult) -> Double {
    r.history.reduce(0) { $0 + $1.seconds }
  }

  static func notes(
    _ recipe: Recipe, trained: SupernetTrainingResult, searched: SearchStage.Result, compareRandom: Bool
  ) -> [String] {
    var notes = trained.history.map {
      String(
        format: "supernet epoch %d: validation accuracy largest %.2f%%, smallest %.2f%%", $0.epoch,
        $0.largestAccuracy * 100, $0.smallestAccuracy * 100)
    }
    notes.append("search stopped: \(searched.search.stopReason.rawValue)")
    if compareRandom, recipe.search.algorithm == .nsga2, searched.random == nil {
      notes.append(
        "no random-search comparison: the budget's search share went to NSGA-II's generations (docs/algorithms.md)"
      )
    }
    notes.append("energy is modelled from device power constants (recipes/devices), not measured")
    return notes
  }
}
