import AdaSearch

/// What `report.md` says beyond the manifest and the lookup table: how the search progressed,
/// how it compared with random search, what the one-run supernet training saved, and free-form
/// notes. Plain numbers, so AdaBundle does not depend on AdaSearch; the pipeline fills it in.
///
///     ReportData(
///       history: [.init(generation: 0, evaluations: 24, frontSize: 5, hypervolume: 0.41)],
///       sourceAccuracy: 0.9066, sourceLatencyMs: 0.82)
public struct ReportData: Codable, Hashable, Sendable {
  /// One generation of the search.
  public struct Generation: Codable, Hashable, Sendable {
    /// 0 for the initial population.
    public var generation: Int
    /// Candidates evaluated so far (cumulative).
    public var evaluations: Int
    /// Size of the non-dominated front after this generation.
    public var frontSize: Int
    /// Hypervolume of that front (objectives as in docs/algorithms.md).
    public var hypervolume: Double

    public init(generation: Int, evaluations: Int, frontSize: Int, hypervolume: Double) {
      self.generation = generation
      self.evaluations = evaluations
      self.frontSize = frontSize
      self.hypervolume = hypervolume
    }

    enum CodingKeys: String, CodingKey {
      case generation, evaluations, frontSize = "front_size", hypervolume
    }
  }

  /// Random search with a budget, for comparison with the manifest's search.
  public struct RandomSearch: Codable, Hashable, Sendable {
    public var evaluations: Int
    /// Hypervolume of random search's non-dominated set, same reference point as the search.
    public var hypervolume: Double

    public init(evaluations: Int, hypervolume: Double) {
      self.evaluations = evaluations
      self.hypervolume = hypervolume
    }
  }

  /// The training-overhead claim (design §5): one supernet run versus fine-tuning each selected
  /// variant separately to the same accuracy.
  public struct TrainingOverhead: Codable, Hashable, Sendable {
    /// Wall-clock seconds of the supernet run.
    public var supernetSeconds: Double
    /// Wall-clock seconds of fine-tuning the variants one by one (sum).
    public var oneByOneSeconds: Double

    public init(supernetSeconds: Double, oneByOneSeconds: Double) {
      self.supernetSeconds = supernetSeconds
      self.oneByOneSeconds = oneByOneSeconds
    }

    /// `(1 − supernet / one-by-one) · 100`: how much less time the supernet took (the paper
    /// reports 66.89 %). Negative when the supernet took longer.
    public var savingPercent: Double { (1 - supernetSeconds / oneByOneSeconds) * 100 }

    enum CodingKeys: String, CodingKey {
      case supernetSeconds = "supernet_s", oneByOneSeconds = "one_by_one_s"
    }
  }

  /// The search, one entry per generation in order.
  public var history: [Generation]
  public var randomSearch: RandomSearch?
  public var overhead: TrainingOverhead?
  /// Test accuracy of the source model, 0–1 (must equal the manifest's `source.accuracy`).
  public var sourceAccuracy: Double
  /// Measured batch-1 latency of the source model on this host, ms (must equal the manifest's
  /// `source.latency_ms`).
  public var sourceLatencyMs: Double
  /// Free-form lines, printed as a list at the end of the report.
  public var notes: [String]

  public init(
    history: [Generation] = [], randomSearch: RandomSearch? = nil, overhead: TrainingOverhead? = nil,
    sourceAccuracy: Double, sourceLatencyMs: Double, notes: [String] = []
  ) {
    self.history = history
    self.randomSearch = randomSearch
    self.overhead = overhead
    self.sourceAccuracy = sourceAccuracy
    self.sourceLatencyMs = sourceLatencyMs
    self.notes = notes
  }

  enum CodingKeys: String, CodingKey {
    case history, randomSearch = "random_search", overhead, sourceAccuracy = "source_accuracy"
    case sourceLatencyMs = "source_latency_ms", notes
  }
}
