import AdaCore
import AdaFormats
import AdaIO
import AdaNN
import AdaTensor
import Foundation

extension Recipe {
  /// The data the model is compressed for (`dataset:`). The training split is divided into the
  /// part that trains the supernet and the last `validation` examples, held out to score search
  /// candidates (the first `searchExamples` of them, when set) and to calibrate exit thresholds
  /// (all of them); `calibration` training examples recalibrate batch-norm for each candidate.
  public struct DatasetSpec: Codable, Hashable, Sendable {
    /// `fashion-mnist` (also `fmnist`, `fashion_mnist`) or the path of an HDF5 dataset file, as
    /// written (see `Recipe.datasetSource()`).
    public var source: String
    /// Training examples held out for search fitness and exit-threshold calibration.
    public var validation: Int = 5000
    /// How many of the validation examples (the first ones) score search candidates and the
    /// supernet's epochs; nil = all. Exit thresholds are calibrated on every validation example,
    /// so a large hold-out can calibrate them tightly without making each candidate dearer.
    public var searchExamples: Int?
    /// Training examples used to recalibrate batch-norm statistics per configuration.
    public var calibration: Int = 2000
    /// Use only the first N training examples (fast runs and tests); nil = all.
    public var trainLimit: Int?
    /// Use only the first N test examples; nil = all.
    public var testLimit: Int?
    /// Resize images to the model's height × width (`resize: {size: [32, 32], method: bilinear}`).
    public var resize: ImageResize?
    /// Channels the model takes: 3 repeats a grey channel (`channels: 3`); nil keeps them.
    public var channels: Int?
    /// How uint8 pixels become inputs (`preprocess: unit|tf|torch|caffe|raw`).
    public var preprocess: PreprocessMode = .unit
    /// Bytes a split may hold in memory before it is streamed from its HDF5 file
    /// (`max-memory: 2GB`); nil: `MemoryBudget.defaultLimit` (half of MemAvailable).
    public var maxMemory: Int?

    public init(source: String) { self.source = source }

    /// What happens to every example the pipeline draws (training, validation, calibration, test).
    public var preparation: ExamplePreparation {
      ExamplePreparation(resize: resize, channels: channels, preprocess: preprocess)
    }

    static let keys = [
      "source", "validation", "search-examples", "calibration", "train-limit", "test-limit", "resize",
      "channels", "preprocess", "max-memory",
    ]

    static func decode(_ v: YAMLValue, _ context: DecodingContext) throws(AdaError) -> DatasetSpec {
      try v.checkRecipeSection(keys)
      var d = DatasetSpec(source: try v["source"].nonEmptyString())
      _ = try resolveSource(d.source, at: v["source"], context)
      d.validation = try v["validation"].int(atLeast: 1, default: d.validation)
      d.searchExamples = try v["search-examples"].optionalInt(atLeast: 1)
      if let n = d.searchExamples, n > d.validation {
        throw v["search-examples"].error(
          "\(n) search examples are more than the \(d.validation) validation examples they are drawn from")
      }
      d.calibration = try v["calibration"].int(atLeast: 1, default: d.calibration)
      d.trainLimit = try v["train-limit"].optionalInt(atLeast: 1)
      d.testLimit = try v["test-limit"].optionalInt(atLeast: 1)
      d.resize = try decodeResize(v["resize"])
      d.channels = try v["channels"].optionalInt(atLeast: 1)
      d.preprocess = PreprocessMode(
        rawValue: try v["preprocess"].choice(PreprocessMode.allCases.map(\.rawValue), default: "unit"))!
      if v["max-memory"].exists {
        let text = try v["max-memory"].string()
        d.maxMemory = try v["max-memory"].locating { () throws(AdaError) in try MemoryBudget.parse(text) }
      }
      // How many examples the dataset has is the pipeline's to check (it is not loaded here);
      // against an explicit train-limit the split can be checked now.
      if let limit = d.trainLimit {
        guard d.validation < limit else {
          throw v["validation"].exists
            ? v["validation"].error(
              "holding out \(d.validation) examples leaves none of the train-limit \(limit) to train on")
            : v["train-limit"].error(
              "train-limit \(limit) is not more than the default validation hold-out \(d.validation); "
                + "lower dataset.validation too")
        }
        guard d.calibration <= limit - d.validation else {
          throw (v["calibration"].exists ? v["calibration"] : v["train-limit"]).error(
            "calibration needs \(d.calibration) training examples, but train-limit \(limit) minus "
              + "validation \(d.validation) leaves \(limit - d.validation)")
        }
      }
      return d
    }

    /// `resize: {size: [H, W], method: bilinear|nearest|pad}` (method defaults to bilinear).
    static func decodeResize(_ v: YAMLValue) throws(AdaError) -> ImageResize? {
      guard v.exists else { return nil }
      try v.checkRecipeSection(["size", "method"])
      guard v["size"].exists else { throw v.error("needs size: [height, width], e.g. {size: [32, 32]}") }
      let size = try v["size"].list { (e) throws(AdaError) in try e.int(atLeast: 1) }
      guard size.count == 2 else {
        throw v["size"].error("expected [height, width], found \(size.count) number(s)")
      }
      let method = try v["method"].choice(ImageResize.Method.allCases.map(\.rawValue), default: "bilinear")
      return ImageResize(height: size[0], width: size[1], method: ImageResize.Method(rawValue: method)!)
    }

    /// Resolves `source` like `DatasetSource.resolve`, with relative paths joined to the base
    /// directory, and checks the files are there (without reading them). Errors are located at
    /// `at` (the `dataset.source` key).
    static func resolveSource(_ source: String, at v: YAMLValue, _ context: DecodingContext)
      throws(AdaError) -> DatasetSource
    {
      if DatasetSource.fashionMNISTNames.contains(source.lowercased()) {
        let resolved = try v.locating { () throws(AdaError) in
          try DatasetSource.resolve(source, fashionMNISTDirectory: context.fashionMNISTDirectory)
        }
        if case .fashionMNIST(let directory) = resolved {
          for split in [DatasetSplit.train, .test] {
            let stem = FashionMNIST.fileStems(split).images
            let present = [stem + ".gz", stem].contains {
              FileManager.default.fileExists(
                atPath: URL(fileURLWithPath: directory).appendingPathComponent($0).path)
            }
            guard present else {
              var e = v.error(
                "Fashion-MNIST files not found: no \(stem).gz in \(directory)", kind: .fileNotFound)
              e.hint =
                "install the Debian package dataset-fashion-mnist, or set "
                + "\(DatasetSource.fashionMNISTEnvironmentKey) to the directory holding the IDX files"
              throw e
            }
          }
        }
        return resolved
      }
      let path = context.resolve(source)
      guard FileManager.default.fileExists(atPath: path) else {
        let looksLikePath = source.contains("/") || source.lowercased().hasSuffix(".h5")
        let names = DatasetSource.fashionMNISTNames.sorted()
        var e = v.error(
          looksLikePath
            ? "dataset file not found: \(path)"
            : "unknown dataset '\(source)'\(Suggestion.didYouMean(source, among: names)): not a known name "
              + "(\(names.joined(separator: ", "))) and no such file \(path)",
          kind: looksLikePath ? .fileNotFound : .invalidValue)
        e.hint = "use fashion-mnist or the path of an HDF5 dataset file (see datasets/README.md)"
        throw e
      }
      return try v.locating { () throws(AdaError) in try DatasetSource.resolve(path) }
    }
  }

  /// The dataset the recipe names, resolved (its files exist; nothing is read yet).
  public func datasetSource() throws(AdaError) -> DatasetSource {
    let v = try YAMLValue.parse(text, file: file)["dataset"]["source"]
    return try DatasetSpec.resolveSource(dataset.source, at: v, DecodingContext(baseDirectory: baseDirectory))
  }
}
