import AdaFormats
import AdaIO
import AdaSearch
import AdaTensor
import Foundation

extension Recipe {
  /// How configurations are searched (`search:`). Plain values: the search itself lives in
  /// AdaSearch and is configured from these by the pipeline.
  public struct SearchSpec: Codable, Hashable, Sendable {
    public enum Algorithm: String, Codable, Hashable, Sendable, CaseIterable {
      /// NSGA-II: non-dominated sorting and crowding distance over the objectives.
      case nsga2
      /// Uniform random configurations, the baseline a search must beat.
      case random
    }

    /// What a configuration is scored on. Accuracy is maximised, the costs minimised.
    public enum Objective: String, Codable, Hashable, Sendable, CaseIterable {
      /// Validation accuracy with shared weights (batch-norm recalibrated).
      case accuracy
      /// Predicted latency from the lookup table.
      case latency
      /// Modelled energy per inference.
      case energy
      /// Peak memory: weights plus live activations.
      case memory
    }

    /// Where candidates are scored (docs/scale.md).
    public enum Backend: String, Codable, Hashable, Sendable, CaseIterable {
      /// In this process, `workers` threads.
      case local
      /// As Ray tasks on a cluster, each running `adascale search-worker`.
      case ray
    }

    public var algorithm: Algorithm = .nsga2
    /// Configurations per generation.
    public var population: Int = 24
    /// Generations after the initial population.
    public var generations: Int = 15
    /// Wall-clock limit in seconds; nil = only the generation budget.
    public var timeBudgetSeconds: Double? = 600
    public var seed: UInt64 = 0
    /// Candidates evaluated in parallel, 1…cores (one BLAS thread each).
    public var workers: Int = 2
    /// Distinct, accuracy first, then the costs in the order given.
    public var objectives: [Objective] = [.accuracy, .latency]
    /// Where candidates' accuracies are computed; the scores are the same either way.
    public var backend: Backend = .local
    /// The Ray cluster's GCS address, `host:port` (with `backend: ray`; nil: the command line's
    /// `--ray-address` or `$ADASCALE_RAY_ADDRESS`).
    public var rayAddress: String?

    public init() {}

    static let keys = [
      "algorithm", "population", "generations", "time-budget", "seed", "workers", "objectives", "backend",
      "ray-address",
    ]

    static func decode(_ v: YAMLValue, _ context: DecodingContext) throws(AdaError) -> SearchSpec {
      try v.checkRecipeSection(keys)
      var s = SearchSpec()
      s.algorithm = Algorithm(
        rawValue: try v["algorithm"].choice(Algorithm.allCases.map(\.rawValue), default: "nsga2"))!
      let population = v["population"]
      s.population = try population.int(default: s.population)
      guard s.population >= 4 else {
        throw population.error(
          "expected a population of at least 4 (NSGA-II selects by pairs and crowding), found \(s.population)"
        )
      }
      s.generations = try v["generations"].int(atLeast: 1, default: s.generations)
      let budget = v["time-budget"]
      // An explicit `null` means no time limit; an absent key takes the default.
      s.timeBudgetSeconds =
        budget.node == nil ? s.timeBudgetSeconds : budget.exists ? try Recipe.duration(budget) : nil
      s.seed = try v["seed"].seed()
      s.workers = min(s.workers, context.cores)
      if v["workers"].exists {
        s.workers = v["workers"].isWord("auto") ? context.cores : try v["workers"].int(atLeast: 1)
        guard s.workers <= context.cores else {
          throw v["workers"].error(
            "expected at most \(context.cores) (the cores of this machine), found \(s.workers); "
              + "use auto for one per core")
        }
      }
      if v["objectives"].exists { s.objectives = try decodeObjectives(v["objectives"]) }
      s.backend = Backend(
        rawValue: try v["backend"].choice(Backend.allCases.map(\.rawValue), default: "local"))!
      let address = v["ray-address"]
      if address.exists {
        guard s.backend == .ray else {
          throw address.error("a Ray address needs search.backend: ray (search.backend is local)")
        }
        let text = try address.string()
        guard Self.isRayAddress(text) else {
          throw address.error(
            "expected a Ray cluster address host:port (e.g. 127.0.0.1:6379), found '\(text)'")
        }
        s.rayAddress = text
      }
      return s
    }

    /// `host:port` with a non-empty host and a port in 1…65535 (a Ray head's GCS address).
    public static func isRayAddress(_ text: String) -> Bool {
      guard let colon = text.lastIndex(of: ":") else { return false }
      let host = text[..<colon]
      guard !host.isEmpty, !host.contains(where: \.isWhitespace),
        let port = Int(text[text.index(after: colon)...])
      else { return false }
      return (1...65535).contains(port)
    }

    static func decodeObjectives(_ v: YAMLValue) throws(AdaError) -> [Objective] {
      let all = Objective.allCases.map(\.rawValue)
      var objectives: [Objective] = []
      for item in try v.list({ x throws(AdaError) in x }) {
        let o = Objective(rawValue: try item.choice(all))!
        guard !objectives.contains(o) else { throw item.error("'\(o.rawValue)' is listed twice") }
        objectives.append(o)
      }
      guard objectives.contains(.accuracy) else {
        throw v.error("objectives must include accuracy (search trades it against the costs)")
      }
      guard objectives.count >= 2 else {
        throw v.error("objectives need accuracy and at least one cost: latency, energy or memory")
      }
      return [.accuracy] + objectives.filter { $0 != .accuracy }
    }
  }
}
