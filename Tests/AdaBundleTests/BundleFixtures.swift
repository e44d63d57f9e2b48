import AdaBundle
import AdaBundleWriter
import AdaCompress
import AdaNN
import AdaProfile
import AdaTensor
import Foundation

/// Small bundle contents for the writer, report and plot tests: three tiny variants of a
/// `[4, 4, 2]` classifier (one with 8- and 4-bit quantized kernels), two devices, two
/// contexts, and a lookup table with one row per variant × device × context.
enum BundleFixtures {
  static let devices = ["host", "raspberry-pi-4"]
  static let contexts = [
    NamedContext(name: "normal", context: DeviceContext()),
    NamedContext(name: "busy", context: DeviceContext(cpuShare: 0.5, memoryAvailableMB: 0.001)),
  ]

  /// `[4, 4, 2]` → conv1 3×3 (`filters`, relu) → `head` (flatten or global average pool) →
  /// fc (3, softmax), seeded weights with non-zero biases.
  static func model(filters: Int, pooled: Bool, seed: UInt64) -> Model {
    let head: LayerSpec = pooled ? .globalPool2D(GlobalPool2DSpec(kind: .average)) : .flatten
    let graph = Graph(
      name: "tiny",
      nodes: [
        Node(name: "input", spec: .input(InputSpec(shape: [4, 4, 2])), inputs: []),
        Node(
          name: "conv1",
          spec: .conv2D(Conv2DSpec(filters: filters, kernel: .square(3), padding: .same, activation: .relu)),
          inputs: ["input"]),
        Node(name: "head", spec: head, inputs: ["conv1"]),
        Node(name: "fc", spec: .dense(DenseSpec(units: 3, activation: .softmax)), inputs: ["head"]),
      ], outputs: ["fc"])
    var p = try! Parameters.initialize(for: graph, seed: seed)
    var g = SeededGenerator(seed: seed &+ 7)
    for key in p.keys where key.hasSuffix("/bias") {
      p.tensors[key] = .uniform(p.tensors[key]!.shape, lo: -0.3, hi: 0.3, using: &g)
    }
    return Model(graph: graph, parameters: p)
  }

  /// Symmetric per-last-axis quantisation written out by hand (independent of AdaCompress's
  /// quantizer): scale = max|w| / qmax per output channel, q = round(w / scale). The model gets
  /// the dequantized values.
  static func quantize(_ model: inout Model, key: String, bits: Int) -> QuantizedTensor {
    let w = model.parameters.tensors[key]!
    let channels = w.shape.last!
    let qmax = Float((1 << (bits - 1)) - 1)
    var scales = [Float](repeating: 0, count: channels)
    for (i, v) in w.scalars.enumerated() { scales[i % channels] = max(scales[i % channels], abs(v) / qmax) }
    let values = w.scalars.enumerated().map { i, v in Int8((v / scales[i % channels]).rounded()) }
    let q = QuantizedTensor(bits: bits, axis: w.rank - 1, shape: w.shape, values: values, scales: scales)
    model.parameters.tensors[key] = q.dequantized()
    return q
  }

  static func payloads() -> [VariantPayload] {
    var quantized = model(filters: 4, pooled: false, seed: 11)
    let table = [
      "conv1/kernel": quantize(&quantized, key: "conv1/kernel", bits: 8),
      "fc/kernel": quantize(&quantized, key: "fc/kernel", bits: 4),
    ]
    return [
      VariantPayload(id: "v01", model: model(filters: 2, pooled: true, seed: 12)),
      VariantPayload(id: "v02", model: quantized, quantized: table),
      VariantPayload(id: "v03", model: model(filters: 4, pooled: false, seed: 13)),
    ]
  }

  static func genome(width: Double, bits: Int, exit: String = SubnetConfig.mainExit) -> SubnetConfig {
    SubnetConfig(
      blocks: [
        .init(block: "conv1", branch: width < 1 ? "low-rank:0.5" : "base", width: width, bits: bits),
        .init(block: "fc", bits: bits == 32 ? 32 : 4),
      ], exit: exit)
  }

  static func manifest() -> Manifest {
    let variants = [
      ("v01", genome(width: 0.5, bits: 32), 0.81, 0.35, 0.37, 30, 1.5),
      ("v02", genome(width: 1, bits: 8), 0.86, 0.52, 0.50, 60, 2.25),
      ("v03", genome(width: 1, bits: 32), 0.875, 0.61, 0.66, 63, 2.5),
    ].map { id, genome, accuracy, latency, predicted, params, energy in
      Manifest.Variant(
        id: id, file: "variants/\(id).h5", genome: genome, accuracy: accuracy,
        searchAccuracy: accuracy - 0.01,
        latencyMs: latency, predictedLatencyMs: predicted, params: params, macs: params * 16,
        weightBytes: params * 4, peakMemoryBytes: params * 4 + 512, energyMj: energy)
    }
    return Manifest(
      toolVersion: "0.1.0", createdAt: "2025-01-02T03:04:05Z",
      source: .init(
        file: "models/tiny.h5", sha256: String(repeating: "ab", count: 32), params: 63, macs: 1008,
        accuracy: 0.88, latencyMs: 0.7),
      recipe: .init(name: "tiny-test", file: "recipes/tiny.yaml", sha256: String(repeating: "cd", count: 32)),
      seed: 42, host: .init(cpu: "Test CPU", cores: 2, blas: "OpenBLAS Cooperlake", threads: 1),
      dataset: .init(name: "synthetic", trainExamples: 1000, validationExamples: 100, testExamples: 200),
      timings: .init(
        baselineSeconds: 0, supernetSeconds: 125.5, searchSeconds: 42.25, emitSeconds: 8, totalSeconds: 3725),
      search: .init(algorithm: "nsga2", evaluations: 96, generations: 4, paretoSize: 5, hypervolume: 0.625),
      devices: devices, contexts: contexts, variants: variants)
  }

  /// One row per variant × device × context: the Pi is 6× slower, `busy` doubles latency and
  /// makes the largest variant infeasible.
  static func lut(_ manifest: Manifest) -> LookupTable {
    var rows: [LookupTable.Row] = []
    for v in manifest.variants {
      for device in devices {
        for context in contexts.map(\.name) {
          let scale = (device == "host" ? 1.0 : 6.0) * (context == "busy" ? 2 : 1)
          rows.append(
            LookupTable.Row(
              variant: v.id, device: device, source: device == "host" ? "measured" : "modelled",
              context: context, latencyMs: v.latencyMs * scale, latencyStdMs: 0.01 * scale,
              energyMj: v.energyMj * scale, memoryBytes: v.peakMemoryBytes, accuracy: v.accuracy,
              feasible: !(context == "busy" && v.id == "v03")))
        }
      }
    }
    return LookupTable(rows: rows)
  }

  static func report(_ manifest: Manifest) -> ReportData {
    ReportData(
      history: (0..<4).map {
        .init(
          generation: $0, evaluations: 24 * ($0 + 1), frontSize: 2 + $0, hypervolume: 0.4 + 0.075 * Double($0)
        )
      },
      randomSearch: .init(evaluations: 96, hypervolume: 0.5),
      overhead: .init(supernetSeconds: 125.5, oneByOneSeconds: 380),
      sourceAccuracy: manifest.source.accuracy, sourceLatencyMs: manifest.source.latencyMs,
      notes: ["Energy is modelled & not measured <RAPL unavailable>."])
  }

  static func contents(opsTable: OpTable? = nil) -> BundleContents {
    let manifest = manifest()
    return BundleContents(
      manifest: manifest, variants: payloads(), lut: lut(manifest), opsTable: opsTable,
      report: report(manifest))
  }

  /// A two-row per-op table, decoded from the documented JSON form (docs/profiler.md §4).
  static func opsTable() throws -> OpTable {
    let json = """
      {"format": "adascale-ops-lut", "version": 1,
       "fingerprint": {"cpu_model": "Test CPU", "blas_core": "Cooperlake", "threads": 1, "version": "0.1.0"},
       "host": {"peak_gflops": 104.1, "bandwidth_gbs": 20.7, "clock_ghz": 2.596, "gemm_size": 512,
                "copy_bytes": 67108864},
       "overhead": {"per_node_ms": 3.3e-05, "per_parameter_ms": 0.00014},
       "probe": {"budget_ms": 100, "rounds": 8, "warmup_ms": 10, "minimum_sample_ms": 0.05, "threads": 1},
       "devices": [{"name": "host", "source": "measured", "peak_gflops": 104.1, "bandwidth_gbs": 20.7,
                    "ridge": 5.04, "clock_ratio": 1}],
       "rows": [{"key": "conv2d|in=4x4x2|out=4x4x4|k=3x3|s=1x1|p=same|d=1x1|b=32", "device": "host",
                 "source": "measured", "count": 100, "mean_ms": 0.0021, "var_ms2": 1e-08, "macs": 1152,
                 "flops": 2304, "bytes": 512, "bound": "overhead", "factor": 1}]}
      """
    return try JSONDecoder().decode(OpTable.self, from: Data(json.utf8))
  }
}
