import Foundation

/// `manifest.json` and `lut.json` of a bundle written by hand (format version 1, one host, one
/// `nominal` context) around the given variant entries and lookup-table rows: for CLI tests of
/// the device side that need bundles of exact shapes, without running `compress`.
public enum HandWrittenBundle {
  public static func writeJSON(
    variants: [[String: Any]], rows: [[String: Any]], to dir: URL, sourceLatencyMs: Double, paretoSize: Int
  ) throws {
    let manifest: [String: Any] = [
      "format": "adascale-bundle", "format_version": 1, "tool_version": "0.1.0",
      "created_at": "2025-01-01T00:00:00Z",
      "source": [
        "file": "m.h5", "sha256": "", "params": 1, "macs": 1, "accuracy": 0.9, "latency_ms": sourceLatencyMs,
      ],
      "recipe": ["name": "t", "file": "t.yaml", "sha256": ""], "seed": 1,
      "host": ["cpu": "", "cores": 2, "blas": "OpenBLAS", "threads": 1],
      "dataset": ["name": "t", "train_examples": 1, "validation_examples": 1, "test_examples": 1],
      "timings": ["baseline_s": 0, "supernet_s": 0, "search_s": 0, "emit_s": 0, "total_s": 0],
      "search": [
        "algorithm": "nsga2", "evaluations": 1, "generations": 1, "pareto_size": paretoSize, "hypervolume": 0,
      ],
      "devices": ["host"],
      "contexts": [
        ["name": "nominal", "context": ["cpu_share": 1, "frequency_scale": 1, "thermal": "nominal"]]
      ],
      "variants": variants,
    ]
    let lut: [String: Any] = [
      "format": "adascale-lut", "format_version": 1, "energy_modelled": true, "rows": rows,
    ]
    try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])
      .write(to: dir.appendingPathComponent("manifest.json"))
    try JSONSerialization.data(withJSONObject: lut, options: [.prettyPrinted, .sortedKeys])
      .write(to: dir.appendingPathComponent("lut.json"))
  }
}
