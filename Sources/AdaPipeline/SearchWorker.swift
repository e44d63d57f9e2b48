import AdaCompress
import AdaCore
import AdaIO
import AdaNN
import AdaRecipe
import AdaSearch
import AdaTensor
import AdaTrain
import Foundation

/// What `adascale search-worker` needs to score candidates away from the search (a Ray task on
/// any node, docs/scale.md): files every node reads at the same paths — the recipe (dataset
/// and supernet settings), the source model the supernet was built over, and the trained
/// supernet's checkpoint directory — and the identity they must hash to, so a node that sees
/// other files (a retrained supernet, a changed dataset) refuses instead of scoring wrongly.
public struct SearchWorkerSpec: Codable, Hashable, Sendable {
  /// Absolute path of the recipe.
  public var recipe: String
  /// Absolute path of the source model (the trained baseline's `.h5`, or the recipe's model file).
  public var source: String
  /// Absolute path of the supernet checkpoint directory (`<work>/supernet…`).
  public var supernet: String
  /// `SearchWorker.identity` of the evaluator the search uses (nil: not checked; tests).
  public var identity: String?

  public init(recipe: String, source: String, supernet: String, identity: String?) {
    self.recipe = recipe
    self.source = source
    self.supernet = supernet
    self.identity = identity
  }

  /// `adascale search-worker` arguments (the genomes follow as `--genomes JSON`).
  public var arguments: [String] {
    ["search-worker", "--recipe", recipe, "--source", source, "--supernet", supernet]
      + (identity.map { ["--identity", $0] } ?? [])
  }
}

/// The worker side: rebuilds the search's evaluator from a `SearchWorkerSpec` and scores
/// genomes with `SupernetSearchProblem.accuracies`, the function the local search uses.
public struct SearchWorker: Sendable {
  public let codec: GenomeCodec
  public let evaluator: SubnetEvaluator
  public let validation: LabeledDataset

  init(codec: GenomeCodec, evaluator: SubnetEvaluator, validation: LabeledDataset) {
    self.codec = codec
    self.evaluator = evaluator
    self.validation = validation
  }

  /// A short hash of everything that decides a candidate's accuracy besides its genome: the
  /// supernet's structure and trained weights, the batch-norm calibration examples and the
  /// validation examples with their labels.
  public static func identity(evaluator: SubnetEvaluator, validation: LabeledDataset) -> String {
    var h = StableHasher()
    h.combine("adascale-search-worker-v1")
    h.combine(json: evaluator.supernet.blocks)
    h.combine(json: evaluator.supernet.exits)
    h.combine(json: evaluator.supernet.stages)
    h.combine(json: evaluator.supernet.resolutions)
    h.combine(evaluator.supernet.weights)
    h.combine(json: [evaluator.batchSize, evaluator.recalibrationBatches, evaluator.calibration.count])
    h.combine(examplesOf: evaluator.calibration)
    h.combine(json: [validation.count, validation.classCount])
    h.combine(examplesOf: validation)
    validation.labels.withUnsafeBytes { h.combine(bytes: $0) }
    return String(h.hexDigest.prefix(16))
  }

  /// Loads what the spec names, as the pipeline built it: the source, the recipe's data splits,
  /// the supernet from the recipe's settings with the checkpoint's weights.
  ///
  /// - Throws: `AdaError` naming the file that cannot be read, or `invalidValue` when the files
  ///   do not hash to `spec.identity` (this node sees other files than the search).
  public static func load(_ spec: SearchWorkerSpec) throws(AdaError) -> SearchWorker {
    let recipe = try Recipe.load(path: spec.recipe)
    var config: String?
    if case .file(let path, let c) = recipe.model, recipe.resolve(path) == spec.source {
      config = c.map(recipe.resolve)
    }
    let source = try KerasModelReader.load(path: spec.source, config: config)
    let data = try PipelineData.load(recipe, for: source.graph)
    let (options, training) = SupernetStage.options(recipe, trainExamples: data.train.count)
    var supernet: Supernet
    do {
      supernet = try Supernet(source: source, options: options)
    } catch {
      throw error.inFile(recipe.file)
    }
    let url = Checkpoint.url(in: URL(fileURLWithPath: spec.supernet))
    let checkpoint = try Checkpoint.read(from: url)
    guard Set(checkpoint.parameters.keys) == Set(supernet.weights.keys) else {
      throw AdaError(.invalidValue, file: url.path, "the checkpoint does not hold this supernet's weights")
    }
    supernet.weights = checkpoint.parameters
    let evaluator = SubnetEvaluator(
      supernet: supernet, calibration: data.calibration, batchSize: training.batchSize,
      recalibrationBatches: training.recalibrationBatches)
    let found = identity(evaluator: evaluator, validation: data.searchValidation)
    if let expected = spec.identity, found != expected {
      throw AdaError(
        .invalidValue, file: url.path,
        "this node's supernet and data hash to \(found), the search's to \(expected)",
        hint:
          "every node must see the same recipe, dataset, source model and supernet checkpoint at the same paths"
      )
    }
    return SearchWorker(
      codec: GenomeCodec(supernet: supernet), evaluator: evaluator, validation: data.searchValidation)
  }

  /// Accuracies of `genomes` (each repaired by the search already), `workers` threads.
  public func accuracies(of genomes: [Genome], workers: Int = 1) throws(AdaError) -> [Double] {
    for g in genomes where g.values.count != codec.space.genes.count {
      throw AdaError(
        .invalidValue, path: "genomes",
        "genome \(g) has \(g.values.count) genes; this supernet's have \(codec.space.genes.count)")
    }
    for g in genomes {
      for (value, gene) in zip(g.values, codec.space.genes) where !gene.choices.indices.contains(value) {
        throw AdaError(.invalidValue, path: "genomes", "genome \(g) is outside this supernet's search space")
      }
    }
    for g in genomes where codec.repair(g) != g {
      throw AdaError(
        .invalidValue, path: "genomes", "genome \(g) is not a valid configuration of this supernet")
    }
    return try SupernetSearchProblem.accuracies(
      of: genomes.map(codec.decode), evaluator: evaluator, validation: validation, workers: workers)
  }
}
