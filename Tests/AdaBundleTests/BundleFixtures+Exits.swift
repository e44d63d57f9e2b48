import AdaBundle
import AdaBundleWriter
import AdaCompress
import AdaNN
import AdaTensor

extension BundleFixtures {
  /// `v03` with one exit head after `conv1` (GAP → Dense softmax), outputs `[conv1_exit, fc]`.
  static func exitModel() -> Model {
    let base = model(filters: 4, pooled: false, seed: 13)
    var graph = base.graph
    graph.nodes.insert(
      contentsOf: [
        Node(
          name: "conv1_exit_gap", spec: .globalPool2D(GlobalPool2DSpec(kind: .average)), inputs: ["conv1"]),
        Node(
          name: "conv1_exit", spec: .dense(DenseSpec(units: 3, activation: .softmax)),
          inputs: ["conv1_exit_gap"]),
      ], at: 2)
    graph.outputs = ["conv1_exit", "fc"]
    var p = base.parameters
    let heads = try! Parameters.initialize(for: graph, seed: 5)
    for key in heads.keys where key.hasPrefix("conv1_exit") { p.tensors[key] = heads.tensors[key] }
    return Model(graph: graph, parameters: p)
  }

  /// An exit plan for `v03` (macs 1008) with two operating points.
  static func exitPlan(threshold: Float = 0.8) -> Manifest.ExitPlan {
    Manifest.ExitPlan(
      file: BundleWriter.exitVariantFile(id: "v03"), confidence: .maxSoftmax,
      exits: [
        Manifest.Exit(
          output: "conv1_exit", block: "conv1", node: "conv1", head: "gap", macs: 300, headMacs: 12,
          predictedLatencyMs: 0.2, headPredictedLatencyMs: 0.01, validationAccuracy: 0.7)
      ], finalMacs: 1020, finalPredictedLatencyMs: 0.67,
      operatingPoints: [
        Manifest.OperatingPoint(
          name: "drop-0", kind: .accuracyDrop, target: 0, thresholds: [0.99], exitRates: [0.1, 0.9],
          expectedMacs: 948, expectedLatencyMs: 0.62, validationAccuracy: 0.875, testAccuracy: 0.874,
          testExitRates: [0.12, 0.88], testExpectedMacs: 933.6, measuredLatencyMs: 0.58, validationSwaps: 0.02
        ),
        Manifest.OperatingPoint(
          name: "drop-1", kind: .accuracyDrop, target: 0.01, thresholds: [threshold], exitRates: [0.5, 0.5],
          expectedMacs: 660, expectedLatencyMs: 0.44, validationAccuracy: 0.866, testAccuracy: 0.862,
          testExitRates: [0.48, 0.52], testExpectedMacs: 674.4, validationSwaps: 0.03),
      ], staticValidationAccuracy: 0.88)
  }

  /// `contents()` with `v03` carrying `exitPlan(threshold:)` and `exitModel()`.
  static func contentsWithExits(threshold: Float = 0.8) -> BundleContents {
    var c = contents()
    let i = c.manifest.variants.firstIndex { $0.id == "v03" }!
    c.manifest.variants[i].exits = exitPlan(threshold: threshold)
    let j = c.variants.firstIndex { $0.id == "v03" }!
    c.variants[j].exitModel = exitModel()
    return c
  }
}
