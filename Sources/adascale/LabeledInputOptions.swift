import AdaBundle
import AdaFormats
import AdaIO
import AdaNN
import AdaTensor
import ArgumentParser

/// `--input --dataset --limit --input-dataset --labels --labels-dataset`, shared by `mdi run`
/// and `replay`: inputs from an HDF5 file (labels optional), or a dataset's test split prepared
/// as the bundle's manifest says.
struct LabeledInputOptions: ParsableArguments {
  @Option(help: "HDF5 file holding the inputs (or give --dataset).")
  var input: String?

  @Option(
    help:
      "Instead of --input: a dataset's test split (fashion-mnist or an .h5 file), prepared as the bundle's manifest says."
  )
  var dataset: String?

  @Option(help: "Only the first N inputs.")
  var limit: Int?

  @Option(help: "Dataset name of the inputs inside --input.")
  var inputDataset = "x"

  @Option(help: "HDF5 file holding one integer label per input (accuracy).")
  var labels: String?

  @Option(help: "Dataset name of the labels inside --labels.")
  var labelsDataset = "y"

  func validate() throws {
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, found \(limit)") }
  }

  /// The inputs and labels: `--input` (and `--labels`), or `--dataset`'s test split prepared with
  /// the manifest's preprocessing.
  func read(bundle: ModelBundle, inputShape: [Int]) throws(AdaError) -> (Tensor, [Int]?) {
    let (x, y) = try readAll(bundle: bundle, inputShape: inputShape)
    guard let limit, limit < x.shape[0] else { return (x, y) }
    return (x.slice(batch: 0..<limit), y.map { Array($0.prefix(limit)) })
  }

  func readAll(bundle: ModelBundle, inputShape: [Int]) throws(AdaError) -> (Tensor, [Int]?) {
    if let dataset {
      guard input == nil else {
        throw AdaError(.invalidValue, path: "--dataset", "give --input or --dataset, not both")
      }
      let n = limit
      try IsolatedDecode.check(.dataset, dataset)
      var data = try DatasetSource.resolve(dataset).load(.test, limit: n)
      var preparation = ExamplePreparation()
      if let p = bundle.manifest.preprocessing {
        preparation = ExamplePreparation(
          resize: p.resize.map {
            ImageResize(
              height: $0.height, width: $0.width, method: ImageResize.Method(rawValue: $0.method) ?? .bilinear
            )
          }, channels: p.channels, preprocess: PreprocessMode(rawValue: p.mode) ?? .unit)
      }
      data = try data.fitted(to: inputShape, preparation: preparation)
      let x = try data.examples(at: Array(0..<data.count))
      return (x, data.labels.map(Int.init))
    }
    guard let input else {
      throw AdaError(.missing, path: "--input", "give the inputs with --input x.h5 or --dataset NAME")
    }
    try IsolatedDecode.check(.tensors, input, dataset: inputDataset)
    let x = try TensorFile.read(path: input, dataset: inputDataset)
    guard x.rank >= 1, Array(x.shape.dropFirst()) == inputShape else {
      throw AdaError(
        .badShape, file: input, path: inputDataset,
        "inputs have shape \(x.shape), the variant expects [N] + \(inputShape)")
    }
    var labelList: [Int]?
    if let labels {
      try IsolatedDecode.check(.tensors, labels, dataset: labelsDataset)
      let y = try TensorFile.read(path: labels, dataset: labelsDataset)
      labelList = y.scalars.map { Int($0) }
    }
    return (x, labelList)
  }
}
