import AdaIO
import AdaNN
import AdaTensor
import ArgumentParser
import Foundation

struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract: "Run a model on a batch of inputs stored in an HDF5 file.",
    discussion: HelpText.reflow(
      """
      Reads the input tensor from dataset `x` of --input (any numeric type, shape [N] + the
      model's input shape) and writes the model's output to dataset `y` of --output. A model
      with several outputs writes `y0`, `y1`, … in output order. The output file is written
      atomically.

      Examples:
        adascale predict --model model.h5 --input x.h5 --output y.h5
        adascale predict --model model.keras --input data.h5 \\
          --input-dataset images --output out.h5
      """))

  @OptionGroup var modelOptions: ModelOptions

  @OptionGroup var io: TensorIOOptions

  @Option(help: "Examples per forward pass.")
  var batchSize = 64

  @Flag(help: "Print a JSON summary.")
  var json = false

  struct Summary: Codable {
    var model: String
    var input: String
    var output: String
    var examples: Int
    var outputs: [String: [Int]]
    var seconds: Double
  }

  func validate() throws {
    guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
  }

  func run() throws {
    let loaded = try modelOptions.load()
    let executor = try Executor(graph: loaded.graph)
    let x = try io.readInput()
    do throws(AdaError) {
      try executor.checkInput(x)
    } catch {
      throw io.inputError(.badShape, error.message)
    }
    let start = Date()
    let ys = executor.predict(x, parameters: loaded.parameters, batchSize: batchSize)
    let seconds = Date().timeIntervalSince(start)
    let names = try io.write(ys)
    let summary = Summary(
      model: modelOptions.model, input: io.input, output: io.output, examples: x.shape[0],
      outputs: Dictionary(uniqueKeysWithValues: zip(names, ys.map(\.shape))), seconds: seconds)
    if json { return try Output.printJSON(summary) }
    let shapes = zip(names, ys).map { "\($0) \(Output.shape($1.shape))" }.joined(separator: ", ")
    print(
      "predicted \(x.shape[0]) examples in \(String(format: "%.1f", seconds * 1000)) ms → \(io.output): \(shapes)"
    )
  }
}
