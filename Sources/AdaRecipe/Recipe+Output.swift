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
    /// Checkpoints and caches (supernet training, search state, latency table), so a killed run
    /// resumes; default `<directory>.work`.
    public var workDirectory: String

    public init(directory: String) {
      self.directory = directory
      self.workDirectory = directory + ".work"
    }

    static let keys = ["directory", "variants", "finetune-epochs", "work-directory"]

    static func decode(_ v: YAMLValue, name: String, _ context: DecodingContext) throws(AdaError)
      -> OutputSpec
    {
      try v.checkRecipeSection(keys)
      var o = OutputSpec(
        directory: v["directory"].exists ? try path(v["directory"], context) : "bundles/\(name)")
      o.variants = try v["variants"].int(atLeast: 1, default: o.variants)
      o.finetuneEpochs = try v["finetune-epochs"].int(atLeast: 0, default: o.finetuneEpochs)
      o.workDirectory =
        v["work-directory"].exists ? try path(v["work-directory"], context) : o.directory + ".work"
      guard context.resolve(o.workDirectory) != context.resolve(o.directory) else {
        throw v["work-directory"].error("must differ from output.directory (the bundle replaces it)")
      }
      return o
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
