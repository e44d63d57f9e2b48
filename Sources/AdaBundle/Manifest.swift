import AdaNN
import AdaProfile

/// `manifest.json` of a bundle (docs/bundle.md): where the variants came from, how they were
/// made, and one entry per variant. Codable with the JSON keys below (snake_case).
public struct Manifest: Codable, Hashable, Sendable {
  /// The format this code writes. Readers refuse a newer one with a clear error.
  public static let currentFormatVersion = 1
  public static let formatName = "adascale-bundle"

  public var format: String = Manifest.formatName
  public var formatVersion: Int = Manifest.currentFormatVersion
  /// adascale version that wrote the bundle.
  public var toolVersion: String
  /// ISO 8601, UTC.
  public var createdAt: String
  public var source: SourceModel
  public var recipe: RecipeInfo
  public var seed: UInt64
  public var host: HostInfo
  public var dataset: DatasetInfo
  /// How an app turns its images into the variants' inputs (resize, channels, preprocess
  /// mode); nil in bundles written before it was recorded.
  public var preprocessing: Preprocessing?
  /// Wall-clock seconds per pipeline stage.
  public var timings: Timings
  public var search: SearchInfo
  /// Devices the lookup table covers (`host` first).
  public var devices: [String]
  /// Named contexts the lookup table covers.
  public var contexts: [NamedContext]
  /// The emitted variants, fastest first.
  public var variants: [Variant]
  /// What the recipe's wall-clock budget bought; nil without a budget.
  public var budget: Budget?

  public init(
    toolVersion: String, createdAt: String, source: SourceModel, recipe: RecipeInfo, seed: UInt64,
    host: HostInfo, dataset: DatasetInfo, timings: Timings, search: SearchInfo, devices: [String],
    contexts: [NamedContext], variants: [Variant], preprocessing: Preprocessing? = nil, budget: Budget? = nil
  ) {
    self.toolVersion = toolVersion
    self.createdAt = createdAt
    self.source = source
    self.recipe = recipe
    self.seed = seed
    self.host = host
    self.dataset = dataset
    self.preprocessing = preprocessing
    self.timings = timings
    self.search = search
    self.devices = devices
    self.contexts = contexts
    self.variants = variants
    self.budget = budget
  }

  enum CodingKeys: String, CodingKey {
    case format, formatVersion = "format_version", toolVersion = "tool_version", createdAt = "created_at"
    case source, recipe, seed, host, dataset, preprocessing, timings, search, devices, contexts, variants
    case budget
  }

  /// The model the bundle was made from.
  public struct SourceModel: Codable, Hashable, Sendable {
    /// Path as given in the recipe (or the baseline the pipeline trained).
    public var file: String
    /// SHA-256 of the file's bytes, hex.
    public var sha256: String
    public var params: Int
    public var macs: Int
    /// Test accuracy, 0–1.
    public var accuracy: Double
    /// Measured batch-1 latency on this host, ms.
    public var latencyMs: Double

    public init(file: String, sha256: String, params: Int, macs: Int, accuracy: Double, latencyMs: Double) {
      self.file = file
      self.sha256 = sha256
      self.params = params
      self.macs = macs
      self.accuracy = accuracy
      self.latencyMs = latencyMs
    }

    enum CodingKeys: String, CodingKey {
      case file, sha256, params, macs, accuracy, latencyMs = "latency_ms"
    }
  }

  public struct RecipeInfo: Codable, Hashable, Sendable {
    public var name: String
    public var file: String
    public var sha256: String
    public init(name: String, file: String, sha256: String) {
      self.name = name
      self.file = file
      self.sha256 = sha256
    }
  }

  public struct HostInfo: Codable, Hashable, Sendable {
    public var cpu: String
    public var cores: Int
    /// BLAS library and core, e.g. `OpenBLAS Cooperlake`.
    public var blas: String
    /// BLAS threads used for latency measurement.
    public var threads: Int
    public init(cpu: String, cores: Int, blas: String, threads: Int) {
      self.cpu = cpu
      self.cores = cores
      self.blas = blas
      self.threads = threads
    }
  }

  public struct DatasetInfo: Codable, Hashable, Sendable {
    public var name: String
    public var trainExamples: Int
    public var validationExamples: Int
    /// The validation examples that scored search candidates (the first ones), when fewer than
    /// all; exit thresholds are calibrated on all `validationExamples`.
    public var searchValidationExamples: Int?
    public var testExamples: Int
    public init(
      name: String, trainExamples: Int, validationExamples: Int, searchValidationExamples: Int? = nil,
      testExamples: Int
    ) {
      self.name = name
      self.trainExamples = trainExamples
      self.validationExamples = validationExamples
      self.searchValidationExamples = searchValidationExamples
      self.testExamples = testExamples
    }
    enum CodingKeys: String, CodingKey {
      case name, trainExamples = "train_examples", validationExamples = "validation_examples"
      case searchValidationExamples = "search_validation_examples", testExamples = "test_examples"
    }
  }

  /// The input convention the variants were trained and scored with (recipe `dataset.resize`,
  /// `channels`, `preprocess`): an app resizes to `resize`, repeats a grey channel up to
  /// `channels`, then applies `mode` to 0–255 pixel values (`formula`).
  public struct Preprocessing: Codable, Hashable, Sendable {
    public struct Resize: Codable, Hashable, Sendable {
      public var height: Int
      public var width: Int
      /// `bilinear` (Keras `image.resize`, antialias off), `nearest` or `pad` (zeros, centred).
      public var method: String
      public init(height: Int, width: Int, method: String) {
        self.height = height
        self.width = width
        self.method = method
      }
    }
    /// nil: images are used at their size.
    public var resize: Resize?
    /// nil: channels are used as they are.
    public var channels: Int?
    /// `unit`, `tf`, `torch`, `caffe` or `raw` (docs/recipes.md, `dataset.preprocess`).
    public var mode: String
    /// The mode as arithmetic on a pixel value x in 0–255, e.g. `x / 127.5 - 1`.
    public var formula: String
    /// One example as the source takes it, e.g. `[32, 32, 3]` (a variant at another resolution
    /// gives its own, `Variant.inputShape`).
    public var inputShape: [Int]

    public init(resize: Resize?, channels: Int?, mode: String, formula: String, inputShape: [Int]) {
      self.resize = resize
      self.channels = channels
      self.mode = mode
      self.formula = formula
      self.inputShape = inputShape
    }

    enum CodingKeys: String, CodingKey {
      case resize, channels, mode, formula, inputShape = "input_shape"
    }
  }

  public struct Timings: Codable, Hashable, Sendable {
    /// Training the baseline when the recipe had no model (0 otherwise).
    public var baselineSeconds: Double
    public var supernetSeconds: Double
    public var searchSeconds: Double
    /// Materialising, fine-tuning, evaluating, profiling and writing the variants.
    public var emitSeconds: Double
    public var totalSeconds: Double
    public init(
      baselineSeconds: Double, supernetSeconds: Double, searchSeconds: Double, emitSeconds: Double,
      totalSeconds: Double
    ) {
      self.baselineSeconds = baselineSeconds
      self.supernetSeconds = supernetSeconds
      self.searchSeconds = searchSeconds
      self.emitSeconds = emitSeconds
      self.totalSeconds = totalSeconds
    }
    enum CodingKeys: String, CodingKey {
      case baselineSeconds = "baseline_s", supernetSeconds = "supernet_s", searchSeconds = "search_s"
      case emitSeconds = "emit_s", totalSeconds = "total_s"
    }
  }

  public struct SearchInfo: Codable, Hashable, Sendable {
    /// `nsga2` or `random`.
    public var algorithm: String
    public var evaluations: Int
    public var generations: Int
    public var paretoSize: Int
    /// Hypervolume of the final front (objectives as in docs/algorithms.md).
    public var hypervolume: Double
    public init(algorithm: String, evaluations: Int, generations: Int, paretoSize: Int, hypervolume: Double) {
      self.algorithm = algorithm
      self.evaluations = evaluations
      self.generations = generations
      self.paretoSize = paretoSize
      self.hypervolume = hypervolume
    }
    enum CodingKeys: String, CodingKey {
      case algorithm, evaluations, generations, paretoSize = "pareto_size", hypervolume
    }
  }

  /// One emitted variant.
  public struct Variant: Codable, Hashable, Sendable {
    /// Short id, e.g. `v03`; also the file stem.
    public var id: String
    /// Path of its Keras legacy `.h5`, relative to the bundle, e.g. `variants/v03.h5`.
    public var file: String
    public var genome: SubnetConfig
    /// `genome.description`, the key used in lut.json.
    public var genomeKey: String
    /// Shape of one input example, `[H, W, C]` (smaller than the source's when the resolution
    /// is elastic: the app resizes, or `AdaptiveModel` does). Absent in older bundles.
    public var inputShape: [Int]?
    /// The genome as its differences from the source (`Supernet.summary`), for tables:
    /// `e=3 ×12 · depth 1/0/2 of 2/3/2 · 8-bit ×5`. Empty in bundles written before it existed.
    public var summary: String
    /// Test accuracy, 0–1, of exactly the weights in `file`.
    public var accuracy: Double
    /// Validation accuracy the search saw (shared weights, BN recalibrated).
    public var searchAccuracy: Double
    /// Measured batch-1 latency on this host, ms.
    public var latencyMs: Double
    /// Latency predicted from the per-op table, ms.
    public var predictedLatencyMs: Double
    public var params: Int
    public var macs: Int
    /// Bytes of weights as stored (quantized layers at their bit width).
    public var weightBytes: Int
    /// Weights + peak live activations at batch 1.
    public var peakMemoryBytes: Int
    /// Modelled energy per batch-1 inference on this host, mJ.
    public var energyMj: Double
    /// The variant with early exits and its calibrated operating points (docs/exits.md); nil
    /// when the recipe adds no exits.
    public var exits: ExitPlan?
    /// Every file written for the variant, one per format and (with exits) model, hashed.
    /// Filled in by `BundleWriter`; empty in bundles written before it existed.
    public var files: [VariantFile] = []

    public init(
      id: String, file: String, genome: SubnetConfig, accuracy: Double, searchAccuracy: Double,
      latencyMs: Double, predictedLatencyMs: Double, params: Int, macs: Int, weightBytes: Int,
      peakMemoryBytes: Int, energyMj: Double, summary: String = "", inputShape: [Int]? = nil,
      exits: ExitPlan? = nil
    ) {
      self.id = id
      self.file = file
      self.genome = genome
      self.genomeKey = genome.description
      self.summary = summary
      self.inputShape = inputShape
      self.accuracy = accuracy
      self.searchAccuracy = searchAccuracy
      self.latencyMs = latencyMs
      self.predictedLatencyMs = predictedLatencyMs
      self.params = params
      self.macs = macs
      self.weightBytes = weightBytes
      self.peakMemoryBytes = peakMemoryBytes
      self.energyMj = energyMj
      self.exits = exits
    }

    enum CodingKeys: String, CodingKey {
      case id, file, genome, genomeKey = "genome_key", summary, inputShape = "input_shape", accuracy,
        searchAccuracy = "search_accuracy"
      case latencyMs = "latency_ms", predictedLatencyMs = "predicted_latency_ms", params, macs
      case weightBytes = "weight_bytes", peakMemoryBytes = "peak_memory_bytes", energyMj = "energy_mj"
      case exits, files
    }

    public init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      id = try c.decode(String.self, forKey: .id)
      file = try c.decode(String.self, forKey: .file)
      genome = try c.decode(SubnetConfig.self, forKey: .genome)
      genomeKey = try c.decode(String.self, forKey: .genomeKey)
      summary = try c.decodeIfPresent(String.self, forKey: .summary) ?? ""
      inputShape = try c.decodeIfPresent([Int].self, forKey: .inputShape)
      accuracy = try c.decode(Double.self, forKey: .accuracy)
      searchAccuracy = try c.decode(Double.self, forKey: .searchAccuracy)
      latencyMs = try c.decode(Double.self, forKey: .latencyMs)
      predictedLatencyMs = try c.decode(Double.self, forKey: .predictedLatencyMs)
      params = try c.decode(Int.self, forKey: .params)
      macs = try c.decode(Int.self, forKey: .macs)
      weightBytes = try c.decode(Int.self, forKey: .weightBytes)
      peakMemoryBytes = try c.decode(Int.self, forKey: .peakMemoryBytes)
      energyMj = try c.decode(Double.self, forKey: .energyMj)
      exits = try c.decodeIfPresent(ExitPlan.self, forKey: .exits)
      files = try c.decodeIfPresent([VariantFile].self, forKey: .files) ?? []
    }
  }
}
