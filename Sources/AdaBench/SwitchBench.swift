import AdaTensor
import Foundation

/// `AdaBench switch`: the adaptation loop's cost between two inferences once every variant is
/// loaded — the selector's decision plus the swap to the chosen variant (design.md §9: well
/// under 1 ms; AdaSpring reports 6.2 ms). Mean and p99 over `--decisions` decisions along a
/// context trace, over all decisions and over those that switched.
///
/// The measurement itself runs in `adascale simulate --switch-cost` (AdaRuntime's
/// `AdaptiveModel.measureSwitching`), in that process, with the variants in memory; this
/// target does not link AdaRuntime, so it starts the `adascale` built beside it (or
/// `--adascale PATH`) and turns its JSON into bench records.
///
///     AdaBench switch --bundle B [--trace recipes/traces/commute.csv] [--decisions 20000]
enum SwitchBench {
  static func run(_ options: Options) throws(AdaError) {
    guard let bundle = options.string("bundle") else {
      throw AdaError(
        .missing, path: "--bundle", "switch needs --bundle DIR (e.g. tools/demo_adapt.sh --make-bundle DIR)")
    }
    let trace = options.string("trace", default: "recipes/traces/commute.csv")
    let decisions = try options.int("decisions", default: 20_000)
    let binary = options.string("adascale") ?? siblingBinary()
    let json = options.flag("json")
    try options.finish()

    let output = try runAdascale(
      binary,
      ["simulate", "--bundle", bundle, "--trace", trace, "--switch-cost", String(decisions), "--json"])
    guard let report = try? JSONSerialization.jsonObject(with: output) as? [String: Any],
      let cost = report["switch_cost"] as? [String: Any],
      let mean = cost["mean_us"] as? Double, let p99 = cost["p99_us"] as? Double,
      let switches = cost["switches"] as? Int
    else {
      throw AdaError(.badFormat, file: binary, "unexpected output from adascale simulate --switch-cost")
    }
    let switchMean = cost["switch_mean_us"] as? Double
    let switchP99 = cost["switch_p99_us"] as? Double
    let detail = [
      "decisions": String(decisions), "switches": String(switches), "trace": trace, "bundle": bundle,
    ]
    let human = String(
      format: "switch (select + swap, variants loaded): mean %.2f µs, p99 %.2f µs over %d decisions; "
        + "%d switches: mean %@ µs, p99 %@ µs (target ≤ 1000 µs)",
      mean, p99, decisions, switches, switchMean.map { String(format: "%.2f", $0) } ?? "-",
      switchP99.map { String(format: "%.2f", $0) } ?? "-")
    BenchRecord(bench: "switch", metric: "mean_us", value: mean, unit: "us", detail: detail)
      .emit(human, jsonOnly: json)
    BenchRecord(bench: "switch", metric: "p99_us", value: p99, unit: "us", detail: detail).emit(
      jsonOnly: true)
    if let sample = cost["sample_mean_us"] as? Double {
      let human = String(format: "resource monitor sample (/proc, /sys, cgroups): mean %.1f µs", sample)
      BenchRecord(bench: "switch", metric: "sample_mean_us", value: sample, unit: "us", detail: detail)
        .emit(human, jsonOnly: json)
    }
    if let switchP99 {
      BenchRecord(bench: "switch", metric: "switch_p99_us", value: switchP99, unit: "us", detail: detail)
        .emit(jsonOnly: true)
    }
  }

  /// `adascale` in the same build directory as this executable.
  static func siblingBinary() -> String {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
      .appendingPathComponent("adascale").path
  }

  static func runAdascale(_ binary: String, _ args: [String]) throws(AdaError) -> Data {
    guard FileManager.default.isExecutableFile(atPath: binary) else {
      throw AdaError(
        .fileNotFound, file: binary, "adascale is not built here",
        hint: "swift build -c release --product adascale, or pass --adascale PATH")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = args
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { throw AdaError(.internalError, file: binary, "cannot start: \(error)") }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw AdaError(
        .invalidValue, file: binary,
        "adascale \(args.joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
    }
    return data
  }
}
