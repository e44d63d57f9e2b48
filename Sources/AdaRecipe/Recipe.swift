import AdaBundle
import AdaBundleWriter
import AdaCore
import AdaFormats
import AdaIO
import AdaTensor
import AdaTrain
import Foundation

/// A compression recipe (`recipes/*.yaml`), decoded and validated: everything `adascale
/// compress` needs to know before it starts, as typed values. docs/recipes.md lists every key.
///
///     let recipe = try Recipe.load(path: "recipes/fmnist.yaml")
///     recipe.supernet.widths          // [1.0, 0.75, 0.5, 0.25]
///     recipe.resolve(recipe.output.directory)
///
/// Loading fails fast on the first problem with an `AdaError` that names the file, the line and
/// the key path, e.g. `recipes/x.yaml:14: supernet.branches[1]: unknown operator 'low-rnak'
/// (did you mean 'low-rank'?)`. Files the recipe names (model, architecture, dataset, device
/// profiles) are checked to exist; the dataset is not loaded, and nothing about the model's
/// layers is checked (block and exit names are the pipeline's to match against the model).
///
/// Relative paths in a recipe resolve against the current working directory (the repository
/// root for `make compress`), not the recipe's directory; `baseDirectory` overrides that.
/// Paths are kept as written; `resolve(_:)` gives the path to open.
public struct Recipe: Codable, Hashable, Sendable {
  /// Names the run: the default output directory is `bundles/<name>`.
  public var name: String
  public var model: ModelSource
  public var dataset: DatasetSpec
  public var supernet: SupernetSpec
  public var search: SearchSpec
  public var targets: TargetsSpec
  public var constraints: Constraints
  public var output: OutputSpec
  /// Per-input early exits for the emitted variants (`exits:`); nil = none.
  public var exits: ExitsSpec?
  /// Wall-clock seconds for the whole `compress` run (`budget:`); nil = no budget. Each stage
  /// plans its work from measured throughput to fit its share (docs/algorithms.md).
  public var budgetSeconds: Double?
  /// What a new bundle must not do against the previous one (`gates:`, checked by
  /// `adascale diff --recipe`; docs/ci.md); nil = no gates.
  public var gates: BundleGates?

  /// The recipe file as it was given to `load` (or the name given to `parse`).
  public var file: String
  /// The absolute directory relative paths resolve against.
  public var baseDirectory: String
  /// The recipe's text, byte for byte, for the bundle.
  public var text: String
  /// `StableHasher` (64-bit FNV-1a, 16 hex digits) of `text`: identifies the recipe in a
  /// manifest. Not cryptographic.
  public var textHash: String

  /// Top-level keys, in the order docs/recipes.md describes them.
  public static let keys = [
    "name", "model", "dataset", "supernet", "search", "targets", "constraints", "output", "exits", "budget",
    "gates",
  ]

  /// Reads and validates a recipe file. `baseDirectory` defaults to the working directory.
  public static func load(path: String, baseDirectory: String? = nil) throws(AdaError) -> Recipe {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw AdaError(
        .fileNotFound, file: path, "recipe file not found or not readable",
        hint: "recipes live in recipes/*.yaml; see docs/recipes.md")
    }
    return try parse(text: String(decoding: data, as: UTF8.self), file: path, baseDirectory: baseDirectory)
  }

  /// Validates recipe text; `file` names it in errors and in `Recipe.file`.
  public static func parse(text: String, file: String, baseDirectory: String? = nil) throws(AdaError)
    -> Recipe
  {
    let base = absoluteDirectory(baseDirectory ?? FileManager.default.currentDirectoryPath)
    return try parse(text: text, file: file, context: DecodingContext(baseDirectory: base))
  }

  /// `parse(text:file:baseDirectory:)` with every outside input given (tests use it to point
  /// Fashion-MNIST at another directory).
  static func parse(text: String, file: String, context: DecodingContext) throws(AdaError) -> Recipe {
    let doc = try YAMLValue.parse(text, file: file)
    guard doc.exists else {
      throw doc.error("the recipe is empty; it needs at least name, model and dataset")
    }
    try doc.checkRecipeSection(keys)

    let name = try doc["name"].nonEmptyString()
    guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), name.first != "." else {
      throw doc["name"].error(
        "'\(name)' cannot name a directory: use letters, digits, '-', '_' and '.' (not first)")
    }
    try required(doc, "model")
    try required(doc, "dataset")
    var hasher = StableHasher()
    hasher.combine(text)
    return Recipe(
      name: name,
      model: try ModelSource.decode(doc["model"], context),
      dataset: try DatasetSpec.decode(doc["dataset"], context),
      supernet: try SupernetSpec.decode(doc["supernet"], context),
      search: try SearchSpec.decode(doc["search"], context),
      targets: try TargetsSpec.decode(doc["targets"], context),
      constraints: try Constraints.decode(doc["constraints"], context),
      output: try OutputSpec.decode(doc["output"], name: name, context),
      exits: try ExitsSpec.decode(doc["exits"]),
      budgetSeconds: doc["budget"].exists ? try duration(doc["budget"]) : nil,
      gates: try decodeGates(doc["gates"]),
      file: file, baseDirectory: context.baseDirectory, text: text, textHash: hasher.hexDigest)
  }

  /// The path to open for a path written in the recipe: absolute paths are kept, relative ones
  /// are joined to `baseDirectory`.
  public func resolve(_ path: String) -> String {
    Self.resolve(path, against: baseDirectory)
  }

  static func resolve(_ path: String, against base: String) -> String {
    path.hasPrefix("/") ? path : URL(fileURLWithPath: base).appendingPathComponent(path).standardized.path
  }

  static func absoluteDirectory(_ path: String) -> String {
    resolve(path, against: FileManager.default.currentDirectoryPath)
  }

  /// Throws `.missing` at `key` when the section is absent (or `null`).
  static func required(_ doc: YAMLValue, _ key: String) throws(AdaError) {
    guard doc[key].exists else {
      throw doc[key].error("required key is missing", kind: .missing)
    }
  }
}

/// What section decoders need besides the YAML: where relative paths start, how many cores
/// this machine has (the ceiling for `search.workers`), and where Fashion-MNIST lives.
struct DecodingContext {
  var baseDirectory: String
  var cores: Int = ProcessInfo.processInfo.activeProcessorCount
  /// Where Fashion-MNIST is; nil = `$ADASCALE_FASHION_MNIST_DIR` or the default directory.
  var fashionMNISTDirectory: String?

  func resolve(_ path: String) -> String { Recipe.resolve(path, against: baseDirectory) }

  /// Whether `path` (resolved) is an existing regular file.
  func isFile(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: resolve(path), isDirectory: &isDirectory)
      && !isDirectory.boolValue
  }
}
