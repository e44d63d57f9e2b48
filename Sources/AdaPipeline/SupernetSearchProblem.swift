import AdaCompress
import AdaNN
import AdaProfile
import AdaSearch
import AdaTensor
import Foundation

/// The search over a trained supernet's configurations (design.md §6), as an `AdaSearch`
/// problem. Each genome decodes to a configuration, which is scored without retraining:
///
/// - **accuracy** on the validation split, with the shared weights, quantised blocks on their
///   grid and batch-norm recalibrated (`SubnetEvaluator`);
/// - **latency**: batch-1 ms predicted from the per-op table of this host (ops measured once and
///   cached by signature), on the graph as it will be emitted (batch-norm folded);
/// - **energy** (mJ, device power model) and **memory** (weights + peak activations, MB) when
///   the recipe asks for them.
///
/// Every op signature a batch of candidates needs is timed first, one at a time; then the
/// accuracies are computed by `workers` threads, each running its GEMMs single-threaded, so the
/// scores do not depend on the number of workers — or, with an `accuracyBackend` (Ray,
/// docs/scale.md), by `adascale search-worker` processes elsewhere running the same
/// `SupernetSearchProblem.accuracies`, which gives the same bits.
public struct SupernetSearchProblem: SearchProblem {
  public let codec: GenomeCodec
  public let evaluator: SubnetEvaluator
  public let validation: LabeledDataset
  public let objectiveNames: [SearchObjective]
  public let constraints: SearchConstraints
  public let profiling: ProfileOptions
  public let hostDevice: DeviceProfile?
  public let workers: Int
  /// Where accuracies are computed; nil: here, by `workers` threads.
  public let accuracyBackend: (any AccuracyBackend)?
  /// Called with a status line while ops are timed or candidates evaluated.
  public let status: @Sendable (String) -> Void
  /// Evaluations already made, shared by every search run on this problem (random search after
  /// NSGA-II re-scores nothing NSGA-II saw).
  let memo = EvaluationMemo()

  public init(
    codec: GenomeCodec, evaluator: SubnetEvaluator, validation: LabeledDataset, objectives: [SearchObjective],
    constraints: SearchConstraints, profiling: ProfileOptions, hostDevice: DeviceProfile?, workers: Int,
    accuracyBackend: (any AccuracyBackend)? = nil, status: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.accuracyBackend = accuracyBackend
    self.codec = codec
    self.evaluator = evaluator
    self.validation = validation
    objectiveNames = objectives
    self.constraints = constraints
    self.profiling = profiling
    self.hostDevice = hostDevice
    self.workers = max(1, workers)
    self.status = status
  }

  public var space: SearchSpace { codec.space }

  public var objectives: [Objective] {
    objectiveNames.map { $0 == .accuracy ? .maximize($0.rawValue) : .minimize($0.rawValue) }
  }

  public func repair(_ genome: Genome) -> Genome { codec.repair(genome) }

  public func evaluate(_ genomes: [Genome]) throws(AdaError) -> [Evaluation] {
    let fresh = Array(Set(genomes.filter { memo[$0] == nil })).sorted()
    for (genome, evaluation) in zip(fresh, try score(fresh)) { memo[genome] = evaluation }
    return genomes.map { memo[$0]! }
  }

  /// Scores genomes not seen before.
  func score(_ genomes: [Genome]) throws(AdaError) -> [Evaluation] {
    guard !genomes.isEmpty else { return [] }
    let configs = genomes.map(codec.decode)
    var costs: [CandidateCost] = []
    for config in configs { costs.append(try cost(of: config)) }
    status("evaluating \(configs.count) candidates on \(validation.count) validation examples")
    let accuracies: [Double]
    if let accuracyBackend {
      accuracies = try accuracyBackend.accuracies(of: genomes)
      guard accuracies.count == genomes.count else {
        throw AdaError(
          .internalError,
          "the accuracy backend returned \(accuracies.count) values for \(genomes.count) genomes")
      }
    } else {
      accuracies = try Self.accuracies(
        of: configs, evaluator: evaluator, validation: validation, workers: workers)
    }
    return zip(accuracies, costs).map { accuracy, cost in
      let metrics = CandidateMetrics(
        accuracy: accuracy, latencyMs: cost.latencyMs, energyMj: cost.energyMj, memoryMB: cost.memoryMB)
      return Evaluation(
        objectives: objectiveNames.map { metrics.value(of: $0) },
        constraintViolation: constraints.violation(of: metrics))
    }
  }

  /// Validation accuracies of configurations, computed by `workers` threads (`ParallelMap`:
  /// single-threaded BLAS and kernels per job, so the values do not depend on `workers`). The
  /// one place a candidate's accuracy is computed: the local search calls it, and so does
  /// `adascale search-worker` on a Ray node.
  public static func accuracies(
    of configs: [SubnetConfig], evaluator: SubnetEvaluator, validation: LabeledDataset, workers: Int
  ) throws(AdaError) -> [Double] {
    try ParallelMap.map(configs.count, workers: workers) { i throws(AdaError) in
      try evaluator.accuracy(of: configs[i], on: validation)
    }
  }

  /// Latency, energy and memory of a configuration as it will be emitted.
  public func cost(of config: SubnetConfig) throws(AdaError) -> CandidateCost {
    let (model, quantized) = try codec.supernet.materialize(config).model(from: codec.supernet.weights)
    let folded = try Deployment.folded(model)
    var options = profiling
    options.measureEndToEnd = false
    options.bits = quantized.bitsByNode
    let profile = try Profiler.profile(graph: folded.graph, options: options) { status("profile: \($0)") }
    let report = try ProfileReport(
      profile: profile, hostDevice: hostDevice, devices: [], context: DeviceContext(), batch: 1,
      bits: options.bits, probe: options.probe)
    return CandidateCost(
      latencyMs: profile.predicted.meanMs, energyMj: report.devices.first?.energyMJ ?? 0,
      memoryMB: Double(report.memory.batch1.peakBytes) / 1_048_576)
  }
}
