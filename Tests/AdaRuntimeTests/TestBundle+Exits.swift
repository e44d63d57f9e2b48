import AdaBundle
import AdaIO
import AdaNN
import AdaTensor
import Foundation

/// A bundle whose variant `v1` has an exit plan: the static file and the multi-exit file share
/// their weights, so the multi-exit model's last output is the static model's output.
extension TestBundle {
  /// `input [4] → h1 (relu) → h2 (relu) → logits (softmax, 3)`, with exit heads
  /// `e0 = Dense(3, softmax)(h1)` and `e1 = Dense(3, softmax)(h2)`; outputs `[e0, e1, logits]`.
  /// MACs at hidden 8: h1 32, heads 24 each, h2 64, logits 24.
  static func exitModels(hidden: Int, seed: UInt64) -> (plain: Model, exits: Model) {
    let softmax = DenseSpec(units: 3, activation: .softmax)
    let graph = Graph(
      name: "mlp-exits",
      nodes: [
        Node(name: "input", spec: .input(InputSpec(shape: [4])), inputs: []),
        Node(name: "h1", spec: .dense(DenseSpec(units: hidden, activation: .relu)), inputs: ["input"]),
        Node(name: "e0", spec: .dense(softmax), inputs: ["h1"]),
        Node(name: "h2", spec: .dense(DenseSpec(units: hidden, activation: .relu)), inputs: ["h1"]),
        Node(name: "e1", spec: .dense(softmax), inputs: ["h2"]),
        Node(name: "logits", spec: .dense(softmax), inputs: ["h2"]),
      ], outputs: ["e0", "e1", "logits"])
    var parameters = try! Parameters.initialize(for: graph, seed: seed)
    var g = SeededGenerator(seed: seed &+ 7)
    for key in parameters.keys {
      parameters.tensors[key] = Tensor.normal(parameters.tensors[key]!.shape, std: 1, using: &g)
    }
    let plainGraph = graph.keepingOnly(outputs: ["logits"])
    let names = Set(plainGraph.nodes.map(\.name))
    let plain = Parameters(
      parameters.tensors.filter { names.contains(String($0.key.split(separator: "/")[0])) })
    return (Model(graph: plainGraph, parameters: plain), Model(graph: graph, parameters: parameters))
  }

  /// The exit plan of `v1` (hidden 8): two exits and two operating points, `drop-0.5`
  /// (accuracy 0.905, 3 ms expected) and `budget-0.5` (0.89, 2 ms).
  static func exitPlan(thresholds: [[Float?]] = [[0.8, 0.7], [0.6, nil]]) -> Manifest.ExitPlan {
    func exit(_ k: Int, macs: Int) -> Manifest.Exit {
      Manifest.Exit(
        output: "e\(k)", block: "h\(k + 1)", node: "h\(k + 1)", head: "dense", macs: macs, headMacs: 24,
        predictedLatencyMs: Double(k + 1), headPredictedLatencyMs: 0.1, validationAccuracy: 0.8)
    }
    func point(_ name: String, _ t: [Float?], accuracy: Double, latency: Double, macs: Double)
      -> Manifest.OperatingPoint
    {
      Manifest.OperatingPoint(
        name: name, kind: name.hasPrefix("drop") ? .accuracyDrop : .budget, target: 0.5, thresholds: t,
        exitRates: [0.3, 0.3, 0.4], expectedMacs: macs, expectedLatencyMs: latency,
        validationAccuracy: accuracy,
        testAccuracy: accuracy, testExitRates: [0.3, 0.3, 0.4], testExpectedMacs: macs)
    }
    return Manifest.ExitPlan(
      file: "variants/v1_exits.h5", confidence: .maxSoftmax,
      exits: [exit(0, macs: 56), exit(1, macs: 144)], finalMacs: 168, finalPredictedLatencyMs: 5.2,
      operatingPoints: [
        point("drop-0.5", thresholds[0], accuracy: 0.905, latency: 3, macs: 100),
        point("budget-0.5", thresholds[1], accuracy: 0.89, latency: 2, macs: 70),
      ])
  }

  /// `v0` (0.86, 1 ms, no exits) and `v1` (0.91, 5 ms, hidden 8) with `exitPlan()`.
  static let exitSpecs = [
    Spec(id: "v0", hidden: 2, accuracy: 0.86, latencyMs: 1.0, energyMj: 1.0, peakMemoryMB: 3, weightMB: 1),
    Spec(id: "v1", hidden: 8, accuracy: 0.91, latencyMs: 5.0, energyMj: 4.8, peakMemoryMB: 6, weightMB: 2),
  ]

  /// Writes the two-variant bundle with `v1`'s plan (edited by `edit`) and files.
  static func writeWithExits(
    manifest: (inout Manifest) -> Void = { _ in }, edit: (inout Manifest.ExitPlan) -> Void = { _ in }
  ) throws -> String {
    let path = try write(exitSpecs) { m, _ in
      var plan = exitPlan()
      edit(&plan)
      m.variants[1].exits = plan
      m.variants[1].macs = 120
      manifest(&m)
    }
    let (plain, exits) = exitModels(hidden: 8, seed: 2)
    try KerasModelWriter.save(plain, to: ModelBundle.path(path, "variants/v1.h5"))
    try KerasModelWriter.save(exits, to: ModelBundle.path(path, "variants/v1_exits.h5"))
    return path
  }
}
