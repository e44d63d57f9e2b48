import AdaCompress
import AdaNN
import AdaTensor
import AdaTrain
import Foundation

/// What `adascale apply` prints: params, MACs and weight bytes before → after for every original
/// layer an operator rewrote (summed over the nodes derived from it) and every new node, and in
/// total; the fine-tuning epochs and test accuracy when a dataset was given.
struct ApplyReport: Codable {
  struct Size: Codable {
    var params: Int
    var macs: Int
    /// Stored weight bytes: 4 per Float32 scalar, quantized kernels at their bits plus scales.
    var bytes: Int
  }

  struct Layer: Codable {
    /// The original layer (or, for a new node such as an exit head, the new node).
    var layer: String
    /// The operations that rewrote it, in order (`low-rank:0.25 → quantize:8`).
    var operation: String
    var before: Size
    var after: Size
  }

  struct FineTune: Codable {
    var examples: Int
    /// Adam learning rate (`--lr`) and how it moved (`--lr-decay`).
    var learningRate: Double
    var decay: FineTuneOptions.Decay
    /// Loss weight of each output (`--exit-weight` on the early exits); nil: every output 1.
    var outputWeights: [Float]?
    var epochs: [EpochReport]
  }

  struct Accuracy: Codable {
    var dataset: String
    var examples: Int
    var original: Double
    var compressed: Double
  }

  var model: String
  var output: String
  var operations: [String]
  /// Output node names of the written model, in output order (early exits follow the originals).
  var outputs: [String]
  var layers: [Layer]
  var before: Size
  var after: Size
  /// Keys (`layer/weight`) of the quantized weights in the output, with their bits.
  var quantized: [String: Int]
  var fineTune: FineTune?
  var accuracy: Accuracy?
  var seconds: Double

  init(
    model: String, output: String, original: Model, originalQuantized: QuantizedWeights,
    result: CompressionResult, fineTune: FineTune?, accuracy: Accuracy?, seconds: Double
  ) {
    self.model = model
    self.output = output
    operations = result.report.operations
    outputs = result.model.graph.outputs
    let beforeTable = originalQuantized.stillMatching(original)
    let origins =
      result.origins ?? Dictionary(uniqueKeysWithValues: result.model.graph.nodes.map { ($0.name, $0.name) })
    var afterBytes: [String: Int] = [:]
    for node in result.model.graph.nodes {
      afterBytes[origins[node.name] ?? node.name, default: 0] += Self.bytes(
        of: node.name, result.model, result.quantized)
    }
    layers = result.report.layers.map { change in
      let isNew = change.before == .zero && original.graph.node(named: change.layer) == nil
      return Layer(
        layer: change.layer, operation: Self.collapsingRepeats(change.operation),
        before: Size(
          params: change.before.params, macs: change.before.macs,
          bytes: isNew ? 0 : Self.bytes(of: change.layer, original, beforeTable)),
        after: Size(
          params: change.after.params, macs: change.after.macs,
          bytes: isNew
            ? Self.bytes(of: change.layer, result.model, result.quantized) : afterBytes[change.layer] ?? 0))
    }
    before = Size(
      params: result.report.before.params, macs: result.report.before.macs,
      bytes: original.weightBytes(quantized: beforeTable))
    after = Size(
      params: result.report.after.params, macs: result.report.after.macs,
      bytes: result.model.weightBytes(quantized: result.quantized))
    quantized = result.quantized.mapValues(\.bits)
    self.fineTune = fineTune
    self.accuracy = accuracy
    self.seconds = seconds
  }

  /// `a → b → b` → `a → b`: a step that rewrote several nodes derived from one layer (low-rank
  /// makes two) is listed once.
  static func collapsingRepeats(_ operation: String) -> String {
    var steps: [Substring] = []
    for step in operation.split(separator: " → ", omittingEmptySubsequences: false) where steps.last != step {
      steps.append(step)
    }
    return steps.joined(separator: " → ")
  }

  /// Stored bytes of node `name`'s weights.
  static func bytes(of name: String, _ model: Model, _ quantized: QuantizedWeights) -> Int {
    let prefix = name + "/"
    return model.parameters.tensors.reduce(0) { sum, entry in
      guard entry.key.hasPrefix(prefix) else { return sum }
      return sum + (quantized[entry.key]?.storedBytes ?? 4 * entry.value.count)
    }
  }

  /// The human-readable report.
  var text: String {
    func change(_ a: Int, _ b: Int) -> String { "\(Output.grouped(a)) → \(Output.grouped(b))" }
    func percent(_ a: Int, _ b: Int) -> String {
      a == 0 ? "" : String(format: " (%+.1f%%)", (Double(b) - Double(a)) / Double(a) * 100)
    }
    let rows = layers.map { l in
      [
        l.layer, l.operation, change(l.before.params, l.after.params), change(l.before.macs, l.after.macs),
        change(l.before.bytes, l.after.bytes),
      ]
    }
    var lines = [
      Output.table(header: ["layer", "operation", "params", "MACs", "bytes"], rows: rows),
      "total: params \(change(before.params, after.params))\(percent(before.params, after.params)), "
        + "MACs \(change(before.macs, after.macs))\(percent(before.macs, after.macs)), "
        + "bytes \(change(before.bytes, after.bytes))\(percent(before.bytes, after.bytes))",
    ]
    if outputs.count > 1 { lines.append("outputs: \(outputs.joined(separator: ", "))") }
    if let last = fineTune?.epochs.last {
      lines.append(
        String(
          format: "fine-tuned %d epoch(s) on %d examples: loss %.4f, accuracy %.2f%%", fineTune!.epochs.count,
          fineTune!.examples, last.loss, last.accuracy * 100))
    }
    if let accuracy {
      lines.append(
        String(
          format: "test accuracy on %d examples: %.2f%% → %.2f%%", accuracy.examples, accuracy.original * 100,
          accuracy.compressed * 100))
    }
    lines.append("saved \(output)  [" + String(format: "%.1f s", seconds) + "]")
    return lines.joined(separator: "\n")
  }
}
