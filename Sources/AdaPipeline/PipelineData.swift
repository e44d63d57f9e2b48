import AdaIO
import AdaNN
import AdaRecipe
import AdaTensor

/// The recipe's dataset, split the way the pipeline uses it:
///
/// - `train`: the training split minus its last `validation` examples (supernet training and
///   the baseline's training);
/// - `validation`: those last examples, never trained on, scoring search candidates;
/// - `calibration`: the first `calibration` examples of `train`, recalibrating batch-norm;
/// - `test`: the test split, scoring what the bundle ships.
public struct PipelineData: Sendable {
  public var name: String
  public var train: LabeledDataset
  public var validation: LabeledDataset
  public var calibration: LabeledDataset
  public var test: LabeledDataset

  /// Loads and splits the dataset, with examples shaped as `graph`'s input.
  ///
  /// - Throws: `AdaError` naming `dataset.source` when the data cannot be read or does not fit
  ///   the model, and `dataset.validation` when the split leaves nothing to train on.
  public static func load(_ recipe: Recipe, for graph: Graph) throws(AdaError) -> PipelineData {
    let spec = recipe.dataset
    let source = try recipe.datasetSource()
    let all: LabeledDataset
    let test: LabeledDataset
    do {
      all = try source.load(.train, limit: spec.trainLimit).reshapingExamples(to: graph.inputShape)
      test = try source.load(.test, limit: spec.testLimit).reshapingExamples(to: graph.inputShape)
    } catch {
      throw AdaError(
        error.kind, file: recipe.file, path: "dataset.source", "\(spec.source): \(error.message)",
        hint: error.hint)
    }
    guard spec.validation >= 1, all.count - spec.validation >= max(spec.calibration, 1) else {
      throw AdaError(
        .invalidValue, file: recipe.file, path: "dataset.validation",
        "\(spec.source) has \(all.count) training examples: too few for \(spec.validation) validation "
          + "and \(spec.calibration) calibration examples",
        hint: "lower dataset.validation or dataset.calibration")
    }
    let trainCount = all.count - spec.validation
    let train = all.subset(Array(0..<trainCount), name: "\(all.name) train")
    return PipelineData(
      name: source.name, train: train,
      validation: all.subset(Array(trainCount..<all.count), name: "\(all.name) validation"),
      calibration: train.subset(
        Array(0..<min(spec.calibration, trainCount)), name: "\(all.name) calibration"),
      test: test)
  }
}
