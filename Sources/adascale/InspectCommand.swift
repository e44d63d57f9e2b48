import AdaBundleWriter
import AdaIO
import AdaNN
import AdaTensor
import ArgumentParser

struct InspectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inspect",
    abstract: "Show a model's layers: kind, output shape, parameters and MACs.",
    discussion: HelpText.reflow(
      """
      MACs are multiply–accumulates of one forward pass on one example (convolutions and dense
      layers; see docs/formats.md).

      Examples:
        adascale inspect model.h5
        adascale inspect model.keras --json
        adascale inspect model.weights.h5 --config config.json
      """))

  @Argument(help: "Keras model file (.h5, .keras or .weights.h5).")
  var model: String

  @Option(help: "Architecture JSON for a .weights.h5 file (Keras' config.json).")
  var config: String?

  @Flag(help: "Print JSON instead of a table.")
  var json = false

  struct Row: Codable {
    var name: String
    var kind: String
    var inputs: [String]
    var outputShape: [Int]
    var params: Int
    var macs: Int
  }

  struct Report: Codable {
    var file: String
    var model: String
    var inputShape: [Int]
    var outputs: [String]
    var layers: [Row]
    var totalParams: Int
    var totalMACs: Int
    var weightBytes: Int
  }

  func run() throws {
    let loaded = try IsolatedDecode.loadModel(model, config: config)
    let graph = loaded.graph
    let shapes = try graph.inferShapes()
    let (per, total) = try graph.costs()
    let rows = zip(graph.nodes, per).map { node, cost in
      Row(
        name: node.name, kind: node.spec.kindName, inputs: node.inputs,
        outputShape: shapes[node.name]!, params: cost.params, macs: cost.macs)
    }
    let report = Report(
      file: model, model: graph.name, inputShape: graph.inputShape, outputs: graph.outputs,
      layers: rows, totalParams: total.params, totalMACs: total.macs,
      weightBytes: loaded.parameters.scalarCount * 4)
    if json { return try Output.printJSON(report) }
    print("model \(graph.name)  (\(model))")
    print(
      Output.table(
        header: ["layer", "kind", "output shape", "params", "MACs"],
        rows: rows.map {
          [
            $0.name, $0.kind, Output.shape($0.outputShape), Output.grouped($0.params),
            Output.grouped($0.macs),
          ]
        }))
    print(
      "total: \(Output.grouped(total.params)) params (\(Output.grouped(report.weightBytes)) bytes float32), "
        + "\(Output.grouped(total.macs)) MACs per example")
  }
}
