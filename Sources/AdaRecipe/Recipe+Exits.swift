import AdaCompress
import AdaFormats
import AdaIO
import AdaNN
import AdaTensor

extension Recipe {
  /// Per-input early exits for the emitted variants (`exits:`, docs/exits.md): where heads go,
  /// their form, how they train and which operating points are calibrated. Absent: no exits.
  /// (`supernet.exits` is something else: exits as a *static* cut, one per configuration.)
  public struct ExitsSpec: Codable, Hashable, Sendable {
    public enum After: Codable, Hashable, Sendable {
      /// Every block but the last whose exit (backbone to it plus the head) costs fewer MACs
      /// than the variant's own output.
      case auto
      /// These blocks (supernet block names, or node names of the variant), in any order.
      case named([String])
    }

    public enum Head: Codable, Hashable, Sendable {
      /// `choose(ExitsSpec.autoHeads)`.
      case auto
      case fixed(ExitHead)
      /// Train every form listed at each exit and keep, per exit, the cheapest (head MACs) whose
      /// validation accuracy is within `autoTolerance` of the best one there.
      case choose([ExitHead])

      /// The forms trained at each exit.
      public var forms: [ExitHead] {
        switch self {
        case .auto: ExitsSpec.autoHeads
        case .fixed(let h): [h]
        case .choose(let list): list
        }
      }
    }

    public enum Variants: Codable, Hashable, Sendable {
      case all
      /// These variant ids (`v01`, …).
      case named([String])
      /// The `n` emitted variants with the most MACs.
      case largest(Int)
    }

    /// Forms `head: auto` compares. `conv:` forms are left out: on both models measured they
    /// trained below `grid:2` at 40–160× its MACs and took most of the stage's time
    /// (docs/exits.md "Measured"); list them to try them.
    public static let autoHeads: [ExitHead] = [.gap, .grid(2), .grid(4), .grid(7)]
    /// Accuracy (0–1) a cheaper head may lose against the best at its exit under `head: auto`.
    public static let autoTolerance = 0.005

    public var after: After = .auto
    public var head: Head = .auto
    public var confidence: ExitConfidence = .maxSoftmax
    /// Accuracy drops (0–1) against the variant without early exiting.
    public var accuracyDrops: [Double] = [0, 0.005, 0.01, 0.02]
    /// Expected-MACs budgets as fractions of the variant's MACs.
    public var budgets: [Double] = [0.3, 0.5, 0.7]
    public var training = ExitTrainingOptions()
    public var variants: Variants = .all

    public init() {}

    static let keys = [
      "after", "head", "confidence", "operating-points", "epochs", "batch-size", "learning-rate", "alpha",
      "temperature", "train-examples", "seed", "variants",
    ]

    static func decode(_ v: YAMLValue) throws(AdaError) -> ExitsSpec? {
      guard v.exists else { return nil }
      if v.isWord("none") { return nil }
      try v.checkRecipeSection(keys)
      var s = ExitsSpec()
      let after = v["after"]
      if after.exists && !after.isWord("auto") {
        guard after.node?.sequence != nil else { throw after.expected("auto or a list of block names") }
        let names = try after.distinctStrings()
        guard !names.isEmpty else { throw after.error("expected at least one block") }
        s.after = .named(names)
      }
      let head = v["head"]
      if head.node?.sequence != nil {
        let forms = try head.list { x throws(AdaError) in
          let text = try x.nonEmptyString()
          return try x.locating { () throws(AdaError) in try ExitHead.parse(text) }
        }
        guard !forms.isEmpty else { throw head.error("expected at least one head form") }
        guard Set(forms).count == forms.count else { throw head.error("a head form is listed twice") }
        s.head = .choose(forms)
      } else if head.exists && !head.isWord("auto") {
        let text = try head.nonEmptyString()
        s.head = .fixed(try head.locating { () throws(AdaError) in try ExitHead.parse(text) })
      }
      if v["confidence"].exists {
        s.confidence = ExitConfidence(
          rawValue: try v["confidence"].choice(ExitConfidence.allCases.map(\.rawValue)))!
      }
      let points = v["operating-points"]
      try points.checkRecipeSection(["accuracy-drops", "budgets"])
      if points["accuracy-drops"].exists {
        s.accuracyDrops = try points["accuracy-drops"].list { x throws(AdaError) in
          try x.number(in: "[0, 1)") { $0 >= 0 && $0 < 1 }
        }
      }
      if points["budgets"].exists {
        s.budgets = try points["budgets"].list { x throws(AdaError) in
          try x.number(in: "(0, 1]") { $0 > 0 && $0 <= 1 }
        }
      }
      guard !s.accuracyDrops.isEmpty || !s.budgets.isEmpty else {
        throw points.error("expected at least one accuracy drop or budget")
      }
      s.training.epochs = try v["epochs"].int(atLeast: 1, default: s.training.epochs)
      s.training.batchSize = try v["batch-size"].int(atLeast: 1, default: s.training.batchSize)
      s.training.learningRate = try v["learning-rate"].number(
        in: "(0, 1]", default: s.training.learningRate
      ) { $0 > 0 && $0 <= 1 }
      s.training.alpha = try v["alpha"].number(in: "[0, 1]", default: s.training.alpha) { $0 >= 0 && $0 <= 1 }
      s.training.temperature = try v["temperature"].number(in: "(0, 100]", default: s.training.temperature) {
        $0 > 0 && $0 <= 100
      }
      s.training.examples = try v["train-examples"].int(atLeast: 1, default: s.training.examples)
      s.training.seed = try v["seed"].seed(default: s.training.seed)
      let variants = v["variants"]
      if variants.exists && !variants.isWord("all") {
        if variants.node?.sequence != nil {
          s.variants = .named(try variants.distinctStrings())
        } else if let n = try? variants.int() {
          guard n >= 1 else { throw variants.error("expected a count ≥ 1, found \(n)") }
          s.variants = .largest(n)
        } else {
          throw variants.expected("all, a count of variants (the largest), or a list of variant ids")
        }
      }
      return s
    }

    /// The operating points as calibration targets, drops first, with their manifest names
    /// (`drop-0.5` for half a point, `budget-0.3`).
    public var targets: [(name: String, target: ThresholdCalibration.Target)] {
      accuracyDrops.map { ("drop-\(format($0 * 100))", .accuracyDrop($0)) }
        + budgets.map { ("budget-\(format($0))", .budget($0)) }
    }
  }
}
