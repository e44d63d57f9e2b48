import AdaNN
import AdaTensor

/// Options of one profiling run.
public struct ProfileOptions: Sendable {
  public var probe: ProbeConfig
  /// Directory of the on-disk latency cache; nil measures everything afresh and keeps nothing.
  public var cacheDirectory: String?
  /// adascale version, part of the machine fingerprint.
  public var version: String
  /// Weight bit width per node name (default 32).
  public var bits: [String: Int]
  /// Time `Executor.predict` end to end as well (batch 1), to report the prediction error.
  public var measureEndToEnd: Bool
  /// End-to-end budget as a multiple of the per-op budget.
  public var endToEndBudgetFactor: Double
  /// Also time every node inside the running graph (`InGraphTiming`, a diagnostic, not cached),
  /// in the same rounds as the ops, with the end-to-end budget.
  public var measureInGraph = false
  /// The device this host is profiled as (`MachineFingerprint.device`), nil for the host.
  public var device: String?
  /// Host roofline probe (run once per fingerprint): budget, sgemm size, memcpy bytes.
  public var hostProbeBudgetMs: Double = 300
  public var hostGemmSize: Int = 512
  public var hostCopyBytes: Int = 64 << 20

  public init(
    probe: ProbeConfig = ProbeConfig(), cacheDirectory: String? = LatencyCache.defaultDirectory,
    version: String, bits: [String: Int] = [:], measureEndToEnd: Bool = true,
    endToEndBudgetFactor: Double = 4
  ) {
    self.probe = probe
    self.cacheDirectory = cacheDirectory
    self.version = version
    self.bits = bits
    self.measureEndToEnd = measureEndToEnd
    self.endToEndBudgetFactor = endToEndBudgetFactor
  }
}

/// A model's measured profile on this host.
public struct ModelProfile: Sendable {
  public var graph: Graph
  public var ops: [GraphOp]
  /// Per-op terms in node order (op latency and dispatch overhead).
  public var terms: [LatencyEstimator.Term]
  /// Sum of op means plus dispatch overhead (`LatencyEstimator`).
  public var predicted: LatencyStats
  /// `Executor.predict` timed end to end at batch 1 in the same run (or cached with the ops).
  public var measured: LatencyStats?
  public var overhead: DispatchOverhead
  public var host: HostMeasurements
  public var fingerprint: MachineFingerprint
  /// Unique op signatures found in the cache vs timed in this run.
  public var cacheHits: Int
  public var measuredNow: Int
  public var cachePath: String?
  /// Each node's time inside the graph and their median total, when `measureInGraph`.
  public var inGraph: (nodeMs: [Double], totalMs: Double)?

  /// (predicted − measured) / measured, when measured.
  public var relativeError: Double? {
    measured.map { LatencyEstimator.relativeError(predictedMs: predicted.meanMs, measuredMs: $0.meanMs) }
  }
}

/// Profiles a model on this host: op signatures, per-op latency (cached by signature and machine
/// fingerprint), dispatch overhead, host roofline, and end-to-end latency for the error.
///
///     let profile = try Profiler.profile(graph: model.graph, parameters: model.parameters,
///                                        options: ProfileOptions(version: "0.1.0"))
///     profile.predicted.meanMs, profile.measured?.meanMs
public enum Profiler {
  public static func profile(
    graph: Graph, parameters: Parameters? = nil, options: ProfileOptions,
    progress: (String) -> Void = { _ in }
  ) throws(AdaError) -> ModelProfile {
    let ops = try graph.profiledOps(bits: options.bits)
    var fingerprint = MachineFingerprint.current(threads: options.probe.threads, version: options.version)
    fingerprint.device = options.device
    var cache = LatencyCache(directory: options.cacheDirectory, fingerprint: fingerprint)

    var missing: [GraphOp] = []
    for op in ops where cache.contents.ops[op.signature.key] == nil {
      if !missing.contains(where: { $0.signature.key == op.signature.key }) { missing.append(op) }
    }
    let uniqueCount = Set(ops.map(\.signature.key)).count
    var benchmarks = missing.map { Benchmark.op($0, budgetMs: options.probe.budgetMs) }
    // The model itself is timed in every run that reports it measured, never served from the
    // cache: its figure must be this run's (the ops' table is the cached part).
    let timeModel = options.measureEndToEnd
    let modelBudget = options.probe.budgetMs * options.endToEndBudgetFactor
    var inGraph: InGraphTiming?
    var measuredModel: LatencyStats?
    if timeModel || options.measureInGraph {
      let executor = try Executor(graph: graph)
      let params: Parameters
      if let parameters {
        params = parameters
      } else {
        params = try Parameters.initialize(for: graph, seed: 5)
      }
      if timeModel { benchmarks.append(.model(executor, parameters: params, budgetMs: modelBudget)) }
      if options.measureInGraph {
        inGraph = InGraphTiming(executor: executor, parameters: params)
        benchmarks.append(inGraph!.benchmark(budgetMs: modelBudget))
      }
    }
    // Calibrating the context terms in the same rounds lets them see the same load as the ops.
    let calibration =
      cache.contents.overhead == nil ? DispatchOverhead.Calibration(config: options.probe) : nil
    let calibrationStart = benchmarks.count
    benchmarks += calibration?.benchmarks ?? []
    if !benchmarks.isEmpty {
      progress(
        "timing \(missing.count) op signatures\(timeModel ? " and the model" : "")"
          + (calibration == nil ? "" : ", calibrating the context terms"))
      let stats = LatencyProbe.measure(benchmarks, config: options.probe, progress: progress)
      for (op, s) in zip(missing, stats) { cache.contents.ops[op.signature.key] = s }
      if timeModel { measuredModel = stats[missing.count] }
      if let calibration {
        cache.contents.overhead = calibration.result(Array(stats[calibrationStart...]))
      }
    }
    let measureHost = cache.contents.host == nil
    if measureHost {
      cache.contents.host = HostProbe.measure(
        threads: options.probe.threads, budgetMs: options.hostProbeBudgetMs,
        gemmSize: options.hostGemmSize, copyBytes: options.hostCopyBytes, progress: progress)
    }
    // Rewritten only when something was measured: a run served from the cache writes nothing.
    if !missing.isEmpty || calibration != nil || measureHost { try cache.save() }

    let overhead = cache.contents.overhead!
    let (terms, total) = LatencyEstimator.predict(
      ops: ops, table: cache.contents.ops, overhead: overhead)
    return ModelProfile(
      graph: graph, ops: ops, terms: terms, predicted: total,
      measured: measuredModel,
      overhead: overhead, host: cache.contents.host!, fingerprint: fingerprint,
      cacheHits: uniqueCount - missing.count, measuredNow: missing.count, cachePath: cache.path,
      inGraph: inGraph.map { ($0.nodeMs, $0.totalMs) })
  }
}
