import AdaBundle
import AdaCompress
import AdaIO
import AdaNN
import AdaProfile
import AdaRuntime
import AdaTensor
import Foundation
import TestSupport

/// Small bundles written the way the pipeline writes them (manifest.json and lut.json from the
/// AdaBundle types, variants as Keras .h5 from `KerasModelWriter`), for the runtime tests.
enum TestBundle {
  /// One variant: a tiny MLP `[4] → Dense(hidden, relu) → Dense(3)` with the given LUT figures.
  struct Spec {
    var id: String
    var hidden: Int
    var accuracy: Double
    var latencyMs: Double
    var energyMj: Double
    var peakMemoryMB: Double
    var weightMB: Double = 0.5
  }

  /// Shaped like a real bundle: batch-1 latencies spanning 5×, accuracies 0.86–0.91, energy
  /// growing with latency, memory from 3 to 24 MB (MobileNet-sized variants).
  static let realistic: [Spec] = [
    Spec(id: "v0", hidden: 2, accuracy: 0.86, latencyMs: 1.0, energyMj: 1.0, peakMemoryMB: 3, weightMB: 1),
    Spec(id: "v1", hidden: 3, accuracy: 0.885, latencyMs: 1.8, energyMj: 1.7, peakMemoryMB: 6, weightMB: 2),
    Spec(id: "v2", hidden: 5, accuracy: 0.90, latencyMs: 3.0, energyMj: 2.9, peakMemoryMB: 12, weightMB: 4),
    Spec(id: "v3", hidden: 8, accuracy: 0.91, latencyMs: 5.0, energyMj: 4.8, peakMemoryMB: 24, weightMB: 8),
  ]

  static func model(hidden: Int, seed: UInt64) -> Model {
    let graph = Graph(
      name: "mlp\(hidden)",
      nodes: [
        Node(name: "input", spec: .input(InputSpec(shape: [4])), inputs: []),
        Node(name: "hidden", spec: .dense(DenseSpec(units: hidden, activation: .relu)), inputs: ["input"]),
        Node(name: "logits", spec: .dense(DenseSpec(units: 3)), inputs: ["hidden"]),
      ], outputs: ["logits"])
    return Model(graph: graph, parameters: try! Parameters.initialize(for: graph, seed: seed))
  }

  static func manifest(_ specs: [Spec], contexts: [NamedContext]) -> Manifest {
    let variants = specs.map { s in
      Manifest.Variant(
        id: s.id, file: "variants/\(s.id).h5",
        genome: SubnetConfig(blocks: [SubnetConfig.Block(block: "hidden", width: Double(s.hidden) / 8)]),
        accuracy: s.accuracy, searchAccuracy: s.accuracy, latencyMs: s.latencyMs,
        predictedLatencyMs: s.latencyMs, params: 4 * s.hidden + 3 * s.hidden + 3 + s.hidden,
        macs: 7 * s.hidden, weightBytes: Int(s.weightMB * 1_048_576),
        peakMemoryBytes: Int(s.peakMemoryMB * 1_048_576), energyMj: s.energyMj)
    }
    return Manifest(
      toolVersion: "0.1.0", createdAt: "2025-01-01T00:00:00Z",
      source: .init(file: "mlp.h5", sha256: "00", params: 100, macs: 100, accuracy: 0.91, latencyMs: 5),
      recipe: .init(name: "test", file: "test.yaml", sha256: "00"), seed: 1,
      host: .init(cpu: "test cpu", cores: 2, blas: "OpenBLAS", threads: 1),
      dataset: .init(name: "test", trainExamples: 10, validationExamples: 10, testExamples: 10),
      timings: .init(
        baselineSeconds: 0, supernetSeconds: 1, searchSeconds: 1, emitSeconds: 1, totalSeconds: 3),
      search: .init(algorithm: "nsga2", evaluations: 10, generations: 2, paretoSize: 4, hypervolume: 0.5),
      devices: ["host"], contexts: contexts, variants: variants)
  }

  static let contexts = [
    NamedContext(name: "nominal", context: DeviceContext()),
    NamedContext(name: "busy", context: DeviceContext(cpuShare: 0.5)),
  ]

  /// Host rows: measured at `nominal`, modelled at `busy` (twice the latency, 1.3× the energy).
  static func lut(_ specs: [Spec]) -> LookupTable {
    LookupTable(
      rows: specs.flatMap { s in
        [
          LookupTable.Row(
            variant: s.id, device: "host", source: "measured", context: "nominal", latencyMs: s.latencyMs,
            latencyStdMs: s.latencyMs * 0.05, energyMj: s.energyMj,
            memoryBytes: Int(s.peakMemoryMB * 1_048_576), accuracy: s.accuracy, feasible: true),
          LookupTable.Row(
            variant: s.id, device: "host", source: "modelled", context: "busy", latencyMs: 2 * s.latencyMs,
            latencyStdMs: s.latencyMs * 0.1, energyMj: 1.3 * s.energyMj,
            memoryBytes: Int(s.peakMemoryMB * 1_048_576), accuracy: s.accuracy, feasible: true),
        ]
      })
  }

  /// Writes a bundle of `specs` into a fresh temporary directory and returns its path.
  static func write(
    _ specs: [Spec] = realistic, edit: (inout Manifest, inout LookupTable) -> Void = { _, _ in }
  )
    throws -> String
  {
    let dir = Fixtures.temporaryDirectory("adascale-bundle")
    try FileManager.default.createDirectory(
      at: dir.appendingPathComponent("variants"), withIntermediateDirectories: true)
    for (i, s) in specs.enumerated() {
      try KerasModelWriter.save(
        model(hidden: s.hidden, seed: UInt64(i + 1)),
        to: dir.appendingPathComponent("variants/\(s.id).h5").path)
    }
    var m = manifest(specs, contexts: contexts)
    var l = lut(specs)
    edit(&m, &l)
    try writeJSON(m, to: dir.appendingPathComponent(ModelBundle.manifestFile))
    try writeJSON(l, to: dir.appendingPathComponent(ModelBundle.lutFile))
    return dir.path
  }

  static func writeJSON(_ value: some Encodable, to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(value).write(to: url)
  }

  /// Profiles straight from specs (no files), for selector tests.
  static func profiles(_ specs: [Spec] = realistic) -> [VariantProfile] {
    specs.map {
      VariantProfile(
        id: $0.id, accuracy: $0.accuracy, latencyMs: $0.latencyMs, weightBytes: Int($0.weightMB * 1_048_576),
        peakMemoryBytes: Int($0.peakMemoryMB * 1_048_576), energyMj: $0.energyMj)
    }
  }

  /// The shipped sample traces in recipes/traces.
  static var tracesDirectory: URL {
    Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("recipes/traces")
  }
}
