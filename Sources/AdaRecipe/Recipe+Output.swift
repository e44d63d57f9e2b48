import AdaFormats
import AdaIO
import AdaTensor
import Foundation

extension Recipe {
  /// What the run writes (`output:`). Paths are as written; resolve them with `Recipe.resolve`.
  public struct OutputSpec: Codable, Hashable, Sendable {
    /// The bundle directory (written atomically); default `bundles/<name>`.
    public var directory: String
    /// Variants to emit (the Pareto set is thinned to this many, plus each context's best).
    public var variants: Int = 8
    /// Epochs of distillation fine-tuning per emitted variant; 0 = none.
    public var finetuneEpochs: Int = 0
    /// The fine-tune's peak learning rate (Adam, decayed to 0 by a cosine).
    public var finetuneLearningRate: Double = 3e-4
    /// How far below the accuracy constraint the search may keep configurations, because the
    /// fine-tune recovers accuracy: the search's floor is lowered by this much, and each variant
    /// is held to the recipe's own floor on its fine-tuned validation accuracy (dropped
    /// otherwise). 0 = the search holds the constraint itself. Needs `finetuneEpochs` > 0.
    public var finetuneSlack: Double = 0
    /// Checkpoints and caches (supernet training, search state, latency table), so a killed run
    /// resumes; default `<directory>.work`.
    public var workDirectory: String
    /// Formats every variant ships in (`variants/<id>.h5`, `variants/<id>.onnx`, and the same
    /// for `_exits` files); `keras` is required (the runtime and `check-bundle` read it).
    public var formats: [ModelFileFormat] = [.keras, .onnx]

    public init(directory: String) {
      self.directory = directory
      self.workDirectory = directory + ".work"
    }

    static let keys = [
      "directory", "variants", "finetune-epochs", "finetune-learning-rate", "finetune-slack",
      "work-directory",
      "formats",
    ]

    static func decode(_ v: YAMLValue, name: String, _ context: DecodingContext) throws(AdaError)
      -> OutputSpec
    {
      try v.checkRecipeSection(keys)
      var o = OutputSpec(
        directory: v["directory"].exists ? try path(v["directory"], context) : "bundles/\(name)")
      o.variants = try v["variants"].int(atLeast: 1, default: o.variants)
      o.finetuneEpochs = try v["finetune-epochs"].int(atLeast: 0, default: o.finetuneEpochs)
      o.finetuneLearningRate = try v["finetune-learning-rate"].number(
        in: "(0, 1]", default: o.finetuneLearningRate
      ) { $0 > 0 && $0 <= 1 }
      o.finetuneSlack = try v["finetune-slack"].number(in: "[0, 1)", default: o.finetuneSlack) {
        $0 >= 0 && $0 < 1
      }
      if o.finetuneSlack > 0 && o.finetuneEpochs == 0 {
        throw v["finetune-slack"].error(
          "needs finetune-epochs > 0: without a fine-tune nothing recovers the accuracy the slack lets go")
      }
      o.workDirectory =
        v["work-directory"].exists ? try path(v["work-directory"], context) : o.directory + ".work"
      guard context.resolve(o.workDirectory) != context.resolve(o.directory) else {
        throw v["work-directory"].error("must differ from output.directory (the bundle replaces it)")
      }
      if v["formats"].exists { o.formats = try formats(v["formats"]) }
      return o
    }

    /// `formats: [keras, onnx]`: distinct known names, `keras` among them.
    static func formats(_ v: YAMLValue) throws(AdaError) -> [ModelFileFormat] {
      let names = ModelFileFormat.allCases.map(\.rawValue)
      var out: [ModelFileFormat] = []
      for item in try v.list({ x throws(AdaError) in x }) {
        let f = ModelFileFormat(rawValue: try item.choice(names))!
        guard !out.contains(f) else { throw item.error("'\(f.rawValue)' is listed twice") }
        out.append(f)
      }
      guard out.contains(.keras) else {
        throw v.error("must include keras: the runtime and make check-bundle read the .h5 files")
      }
      return out
    }

    /// A directory path: not empty, and not an existing regular file.
    static func path(_ v: YAMLValue, _ context: DecodingContext) throws(AdaError) -> String {
      var p = try v.nonEmptyString()
      while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
      guard !context.isFile(p) else {
        throw v.error("expected a directory, but \(context.resolve(p)) is a file")
      }
      return p
    }
  }
}
