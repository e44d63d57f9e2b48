import AdaFormats
import AdaIO
import AdaTensor
import AdaTrain
import Foundation

extension Recipe {
  /// Where the model to compress comes from (`model:`): exactly one of a trained Keras file or
  /// an architecture to train a baseline from first.
  public enum ModelSource: Codable, Hashable, Sendable {
    /// `model.file`: a Keras `.h5`, `.keras`, or `.weights.h5` whose architecture JSON is
    /// `config` (or `NAME.config.json` / `config.json` beside it when `config` is nil).
    case file(path: String, config: String?)
    /// `model.architecture` (`recipes/models/*.yaml`), trained as `training` says before the
    /// supernet is built.
    case architecture(path: String, training: BaselineTraining)

    static let keys = ["file", "config", "architecture", "train"]
    /// File endings `model.file` accepts (`.weights.h5` ends in `.h5`).
    static let modelExtensions = [".h5", ".hdf5", ".keras"]

    static func decode(_ v: YAMLValue, _ context: DecodingContext) throws(AdaError) -> ModelSource {
      try v.checkRecipeSection(keys)
      let (file, architecture) = (v["file"], v["architecture"])
      switch (file.exists, architecture.exists) {
      case (true, true):
        throw architecture.error(
          "give exactly one of model.file (a trained Keras model) or model.architecture "
            + "(train a baseline first), not both")
      case (false, false):
        throw v.error(
          "needs model.file (a trained Keras model) or model.architecture (a recipes/models/*.yaml "
            + "to train first)", kind: .missing)
      case (true, false):
        if v["train"].exists {
          throw v["train"].error(
            "model.train only goes with model.architecture; a model.file is already trained")
        }
        return try decodeFile(file, config: v["config"], context)
      case (false, true):
        if v["config"].exists {
          throw v["config"].error("model.config only goes with a .weights.h5 model.file")
        }
        let path = try architecture.nonEmptyString()
        guard context.isFile(path) else {
          throw architecture.error(
            "architecture file not found: \(context.resolve(path))", kind: .fileNotFound)
        }
        // Parsing it now reports a broken architecture before any work starts; its errors name
        // the architecture file itself.
        _ = try ArchitectureFile.load(path: context.resolve(path))
        return .architecture(path: path, training: try BaselineTraining.decode(v["train"]))
      }
    }

    static func decodeFile(_ file: YAMLValue, config: YAMLValue, _ context: DecodingContext)
      throws(AdaError) -> ModelSource
    {
      let path = try file.nonEmptyString()
      guard modelExtensions.contains(where: { path.lowercased().hasSuffix($0) }) else {
        throw file.error(
          "expected a Keras model (.h5, .keras, or .weights.h5 + model.config), found '\(path)'")
      }
      guard context.isFile(path) else {
        throw file.error("model file not found: \(context.resolve(path))", kind: .fileNotFound)
      }
      let isWeightsOnly = path.hasSuffix(".weights.h5")
      guard config.exists else {
        if isWeightsOnly && siblingConfig(of: context.resolve(path)) == nil {
          throw file.error(
            "a .weights.h5 file holds no architecture: add model.config (the model.to_json() file) "
              + "or put NAME.config.json beside it", kind: .missing)
        }
        return .file(path: path, config: nil)
      }
      guard isWeightsOnly else {
        throw config.error(
          "model.config only goes with a .weights.h5 file; '\(path)' carries its architecture")
      }
      let configPath = try config.nonEmptyString()
      guard context.isFile(configPath) else {
        throw config.error("config file not found: \(context.resolve(configPath))", kind: .fileNotFound)
      }
      return .file(path: path, config: configPath)
    }

    /// `NAME.config.json` beside `NAME.weights.h5`, else `config.json` there: where the Keras
    /// reader looks when no config is given.
    static func siblingConfig(of path: String) -> String? {
      let url = URL(fileURLWithPath: path)
      let stem = String(url.lastPathComponent.dropLast(".weights.h5".count))
      let dir = url.deletingLastPathComponent()
      return ["\(stem).config.json", "config.json"].map { dir.appendingPathComponent($0).path }
        .first { FileManager.default.fileExists(atPath: $0) }
    }

    /// The path of the model or architecture file, as written.
    public var path: String {
      switch self {
      case .file(let path, _), .architecture(let path, _): path
      }
    }
  }

  /// How the baseline is trained from `model.architecture` (`model.train`), with the meaning
  /// `adascale train` gives the same options.
  public struct BaselineTraining: Codable, Hashable, Sendable {
    public enum Optimizer: String, Codable, Hashable, Sendable, CaseIterable {
      /// Keras Adam defaults.
      case adam
      /// SGD with momentum 0.9 (the `adascale train` default).
      case sgd
    }

    public enum Schedule: String, Codable, Hashable, Sendable, CaseIterable {
      /// The learning rate throughout.
      case constant
      /// Cosine decay to 0 over all steps.
      case cosine
      /// ×0.1 after each third of the steps.
      case step
    }

    public var epochs: Int = 5
    public var batchSize: Int = 64
    public var optimizer: Optimizer = .adam
    /// Defaults to 0.001 for adam and 0.01 for sgd.
    public var learningRate: Double = 0.001
    public var schedule: Schedule = .cosine
    /// Seeds initialisation, shuffling and dropout.
    public var seed: UInt64 = 0

    public init() {}

    static let keys = ["epochs", "batch-size", "optimizer", "learning-rate", "schedule", "seed"]

    static func decode(_ v: YAMLValue) throws(AdaError) -> BaselineTraining {
      try v.checkRecipeSection(keys)
      var t = BaselineTraining()
      t.epochs = try v["epochs"].int(atLeast: 1, default: t.epochs)
      t.batchSize = try v["batch-size"].int(atLeast: 1, default: t.batchSize)
      t.optimizer = Optimizer(
        rawValue: try v["optimizer"].choice(Optimizer.allCases.map(\.rawValue), default: "adam"))!
      t.learningRate = try v["learning-rate"].number(
        in: "(0, 10]", default: t.optimizer == .adam ? 0.001 : 0.01
      ) { $0 > 0 && $0 <= 10 }
      t.schedule = Schedule(
        rawValue: try v["schedule"].choice(Schedule.allCases.map(\.rawValue), default: "cosine"))!
      t.seed = try v["seed"].seed()
      return t
    }

    /// The `TrainConfig` for a run of `stepsPerEpoch` optimizer steps per epoch (the schedule's
    /// length depends on it), exactly as `adascale train` builds one from the same options.
    /// `plannedSteps` (a budget's plan, at most `epochs × stepsPerEpoch`) shortens the run: the
    /// schedule spans that many steps and `epochs` covers them (the caller stops after them).
    public func trainConfig(stepsPerEpoch: Int, plannedSteps: Int? = nil) -> TrainConfig {
      let total = max(min(plannedSteps ?? .max, stepsPerEpoch * epochs), 1)
      let epochs = stepsPerEpoch > 0 ? (total + stepsPerEpoch - 1) / stepsPerEpoch : epochs
      let lr: LearningRateSchedule =
        switch schedule {
        case .constant: .constant(learningRate)
        case .cosine: .cosine(initial: learningRate, decaySteps: total)
        case .step: .stepDecay(initial: learningRate, every: max(total / 3, 1), factor: 0.1)
        }
      return TrainConfig(
        epochs: epochs, batchSize: batchSize,
        optimizer: optimizer == .adam ? .adam() : .sgd(momentum: 0.9, nesterov: false),
        schedule: lr, seed: seed)
    }
  }
}
