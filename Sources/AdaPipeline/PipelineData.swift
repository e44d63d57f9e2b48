import AdaFormats
import AdaIO
import AdaNN
import AdaRecipe
import AdaTensor

/// The recipe's dataset, split the way the pipeline uses it:
///
/// - `train`: the training split minus its last `validation` examples (supernet training and
///   the baseline's training);
/// - `validation`: those last examples, never trained on, calibrating exit thresholds;
/// - `searchValidation`: the first `dataset.search-examples` of them (all by default), scoring
///   search candidates, the supernet's epochs and the source the accuracy constraints are
///   relative to;
/// - `calibration`: the first `calibration` examples of `train`, recalibrating batch-norm;
/// - `test`: the test split, scoring what the bundle ships.
///
/// Every split carries the recipe's `dataset` preparation (resize, channels, preprocess), so
/// each consumer draws the same model inputs.
public struct PipelineData: Sendable {
  public var name: String
  public var train: LabeledDataset
  public var validation: LabeledDataset
  public var searchValidation: LabeledDataset
  public var calibration: LabeledDataset
  public var test: LabeledDataset

  /// How examples are prepared (recorded in the bundle manifest).
  public var preparation: ExamplePreparation

  /// Loads and splits the dataset, prepared (`dataset.resize`, `channels`, `preprocess`) and
  /// shaped as `graph`'s input; splits above `dataset.max-memory` are streamed from their file.
  ///
  /// - Throws: `AdaError` naming `dataset.source` when the data cannot be read,
  ///   `dataset.resize` / `dataset.channels` / `dataset.preprocess` when a setting does not fit
  ///   the data, `dataset` when the prepared examples do not fit the model's input (both shapes
  ///   named), and `dataset.validation` when the split leaves nothing to train on.
  public static func load(_ recipe: Recipe, for graph: Graph) throws(AdaError) -> PipelineData {
    let spec = recipe.dataset
    let source = try recipe.datasetSource()
    var loaded: [LabeledDataset] = []
    for (split, limit) in [(DatasetSplit.train, spec.trainLimit), (.test, spec.testLimit)] {
      let raw: LabeledDataset
      do {
        raw = try source.load(split, limit: limit, maxMemory: spec.maxMemory)
      } catch {
        throw AdaError(
          error.kind, file: recipe.file, path: "dataset.source", "\(spec.source): \(error.message)",
          hint: error.hint)
      }
      do {
        loaded.append(try raw.fitted(to: graph.inputShape, preparation: spec.preparation))
      } catch {
        let key = error.path == "dataset" ? "dataset" : "dataset.\(error.path ?? "source")"
        throw AdaError(
          error.kind, file: recipe.file, path: key, "\(spec.source) (\(split.rawValue)): \(error.message)",
          hint: error.hint)
      }
    }
    let (all, test) = (loaded[0], loaded[1])
    guard spec.validation >= 1, all.count - spec.validation >= max(spec.calibration, 1) else {
      throw AdaError(
        .invalidValue, file: recipe.file, path: "dataset.validation",
        "\(spec.source) has \(all.count) training examples: too few for \(spec.validation) validation "
          + "and \(spec.calibration) calibration examples",
        hint: "lower dataset.validation or dataset.calibration")
    }
    let trainCount = all.count - spec.validation
    let train = all.subset(Array(0..<trainCount), name: "\(all.name) train")
    let validation = all.subset(Array(trainCount..<all.count), name: "\(all.name) validation")
    let searchCount = min(spec.searchExamples ?? validation.count, validation.count)
    return PipelineData(
      name: source.name, train: train, validation: validation,
      searchValidation: searchCount == validation.count
        ? validation : validation.subset(Array(0..<searchCount), name: "\(all.name) search validation"),
      calibration: train.subset(
        Array(0..<min(spec.calibration, trainCount)), name: "\(all.name) calibration"),
      test: test, preparation: spec.preparation)
  }
}
