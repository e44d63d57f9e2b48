import AdaIO
import AdaTensor
import ArgumentParser

/// `--input --input-dataset --output --output-dataset`, shared by `predict` and `run`: one input
/// tensor read from an HDF5 file, the model's outputs written to another.
struct TensorIOOptions: ParsableArguments {
  @Option(help: "HDF5 file holding the input tensor.")
  var input: String

  @Option(help: "Dataset name of the input tensor inside --input.")
  var inputDataset = "x"

  @Option(help: "HDF5 file to write (replaced if it exists).")
  var output: String

  @Option(help: "Dataset name of the output inside --output (one output; several are y0, y1, …).")
  var outputDataset = "y"

  func validate() throws {
    try checkOutputDirectory(output, option: "--output")
  }

  /// An error about the input tensor, located at `--input`'s file and dataset.
  func inputError(_ kind: AdaError.Kind, _ message: String) -> AdaError {
    AdaError(kind, file: input, path: inputDataset, message)
  }

  /// The input tensor; a non-finite value is an error naming its flat index.
  func readInput() throws(AdaError) -> Tensor {
    try IsolatedDecode.check(.tensors, input, dataset: inputDataset)
    let x = try TensorFile.read(path: input, dataset: inputDataset)
    if let bad = x.scalars.firstIndex(where: { !$0.isFinite }) {
      throw inputError(.nonFinite, "input holds a non-finite value at flat index \(bad)")
    }
    return x
  }

  /// Writes `outputs` in model-output order: `--output-dataset` for one, `y0`, `y1`, … for
  /// several. Returns the dataset names.
  @discardableResult
  func write(_ outputs: [Tensor]) throws(AdaError) -> [String] {
    let names = outputs.count == 1 ? [outputDataset] : outputs.indices.map { "y\($0)" }
    try TensorFile.write(Array(zip(names, outputs)), to: output)
    return names
  }
}
