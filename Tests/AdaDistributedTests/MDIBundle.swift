import AdaBundle
import AdaBundleWriter
import AdaCompress
import AdaNN
import AdaProfile
import AdaTensor
import Foundation

/// A one-variant bundle built around `MDIModels.multiExitGraph`: `v01` is its backbone (final
/// output only), `variants/v01_exits.h5` the multi-exit file, two operating points (`drop-1`:
/// both exits, 30 % and 20 % of inputs leave; `late`: the second exit only, 40 %), and a per-op
/// table with the host's measurements of a few ops (the rest fall back to the roofline).
enum MDIBundle {
  static let model = MDIModels.model()

  static var staticModel: Model {
    let graph = model.graph.keepingOnly(outputs: ["out"])
    let names = Set(graph.nodes.map(\.name))
    return Model(
      graph: graph,
      parameters: Parameters(
        model.parameters.tensors.filter { names.contains(String($0.key.split(separator: "/")[0])) }))
  }

  static func exitPlan() -> Manifest.ExitPlan {
    func exit(_ name: String, node: String) -> Manifest.Exit {
      Manifest.Exit(
        output: name, block: node, node: node, head: "gap", macs: 1000, headMacs: 40, predictedLatencyMs: 0.1,
        headPredictedLatencyMs: 0.01, validationAccuracy: 0.6)
    }
    func point(_ name: String, _ thresholds: [Float?], _ rates: [Double]) -> Manifest.OperatingPoint {
      Manifest.OperatingPoint(
        name: name, kind: .accuracyDrop, target: 0.01, thresholds: thresholds, exitRates: rates,
        expectedMacs: 900, expectedLatencyMs: 0.2, validationAccuracy: 0.8, testAccuracy: 0.8,
        testExitRates: rates, testExpectedMacs: 900)
    }
    return Manifest.ExitPlan(
      file: BundleWriter.exitVariantFile(id: "v01"), confidence: .maxSoftmax,
      exits: [exit("exit1", node: "relu1"), exit("exit2", node: "add3")], finalMacs: 2000,
      finalPredictedLatencyMs: 0.3,
      operatingPoints: [
        point("drop-1", [0.9, 0.8], [0.3, 0.2, 0.5]), point("late", [nil, 0.7], [0, 0.4, 0.6]),
      ])
  }

  static func opsTable() throws -> OpTable {
    let json = """
      {"format": "adascale-ops-lut", "version": 1,
       "fingerprint": {"cpu_model": "Test CPU", "blas_core": "Cooperlake", "threads": 1, "version": "0.1.0"},
       "host": {"peak_gflops": 100, "bandwidth_gbs": 20, "clock_ghz": 2.5, "gemm_size": 512,
                "copy_bytes": 67108864},
       "overhead": {"per_node_ms": 0.0002, "per_parameter_ms": 0.0001, "per_model_ms": 0.0003},
       "probe": {"budget_ms": 100, "rounds": 8, "warmup_ms": 10, "minimum_sample_ms": 0.05, "threads": 1},
       "devices": [{"name": "host", "source": "measured", "peak_gflops": 100, "bandwidth_gbs": 20,
                    "ridge": 5, "clock_ratio": 1}],
       "rows": [{"key": "conv2d|in=8x8x8|out=8x8x8|k=3x3|s=1x1|p=same|d=1x1|b=32", "device": "host",
                 "source": "measured", "count": 100, "mean_ms": 0.02, "var_ms2": 1e-08, "macs": 36864,
                 "flops": 74240, "bytes": 6400, "bound": "compute", "factor": 1}]}
      """
    return try JSONDecoder().decode(OpTable.self, from: Data(json.utf8))
  }

  /// Writes the bundle to a fresh temporary directory and returns its path.
  static func write() throws -> String {
    let dir = FileManager.default.temporaryDirectory
      .appendingPathComponent("mdi-bundle-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
      .path
    var variant = Manifest.Variant(
      id: "v01", file: "variants/v01.h5",
      genome: SubnetConfig(blocks: [SubnetConfig.Block(block: "stem", width: 1)]), accuracy: 0.81,
      searchAccuracy: 0.8, latencyMs: 0.3, predictedLatencyMs: 0.3, params: 5000, macs: 2000,
      weightBytes: 20000,
      peakMemoryBytes: 40000, energyMj: 1)
    variant.exits = exitPlan()
    let manifest = Manifest(
      toolVersion: "0.1.0", createdAt: "2025-01-01T00:00:00Z",
      source: .init(file: "m.h5", sha256: "00", params: 5000, macs: 2000, accuracy: 0.81, latencyMs: 0.3),
      recipe: .init(name: "mdi", file: "mdi.yaml", sha256: "00"), seed: 1,
      host: .init(cpu: "Test CPU", cores: 2, blas: "OpenBLAS", threads: 1),
      dataset: .init(name: "synthetic", trainExamples: 10, validationExamples: 10, testExamples: 10),
      timings: .init(
        baselineSeconds: 0, supernetSeconds: 1, searchSeconds: 1, emitSeconds: 1, totalSeconds: 3),
      search: .init(algorithm: "nsga2", evaluations: 1, generations: 1, paretoSize: 1, hypervolume: 0.5),
      devices: ["host"], contexts: [NamedContext(name: "normal", context: DeviceContext())],
      variants: [variant])
    let lut = LookupTable(rows: [
      LookupTable.Row(
        variant: "v01", device: "host", source: "measured", context: "normal", latencyMs: 0.3,
        latencyStdMs: 0.01,
        energyMj: 1, memoryBytes: 40000, accuracy: 0.81, feasible: true)
    ])
    let contents = BundleContents(
      manifest: manifest,
      variants: [VariantPayload(id: "v01", model: staticModel, exitModel: model)], lut: lut,
      opsTable: try opsTable(),
      report: ReportData(
        history: [], randomSearch: nil, overhead: nil, sourceAccuracy: 0.81, sourceLatencyMs: 0.3, notes: []))
    try BundleWriter.write(contents, to: dir, overwrite: false)
    return dir
  }
}
