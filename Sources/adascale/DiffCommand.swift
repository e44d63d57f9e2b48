import AdaBundle
import AdaBundleWriter
import AdaCore
import AdaIO
import AdaRecipe
import AdaTensor
import ArgumentParser
import Foundation

struct DiffCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "Compare two bundles, variant by variant and front by front, and check gates (CI).",
    discussion: HelpText.reflow(
      """
      Pairs the variants of OLD and NEW (same genome first, then by rank in latency order) and
      prints, per pair, accuracy, measured latency, modelled energy and weight size, and for
      each bundle its best accuracy, fastest variant and front hypervolume in one shared box
      (docs/ci.md).

      Gates come from --recipe (its `gates:` section) and from the options below (which win).
      A failed gate exits with code 3 and names the gate and by how much; 1 is a user error
      (a missing or broken bundle), 2 an internal error. --markdown writes a summary for a CI
      job page, --junit one test case per gate in JUnit XML.

      Examples:
        adascale diff bundles/last bundles/fmnist
        adascale diff old new --max-accuracy-drop 0.005 \\
          --max-latency-regression 0.1 --min-variants 6
        adascale diff old new --recipe recipes/fmnist.yaml --markdown summary.md \\
          --junit gates.xml --json
      """))

  @Argument(help: "The previous bundle.")
  var old: String

  @Argument(help: "The new bundle.")
  var new: String

  @Option(help: "Recipe whose `gates:` section to check.")
  var recipe: String?

  @Option(
    help: "Gate: the best or any paired variant's accuracy may fall by at most this (0.005 = half a point).")
  var maxAccuracyDrop: Double?

  @Option(help: "Gate: a paired variant's measured latency may grow by at most this fraction (0.1 = 10 %).")
  var maxLatencyRegression: Double?

  @Option(help: "Gate: the new bundle has at least this many variants.")
  var minVariants: Int?

  @Option(help: "Gate: the front's hypervolume may fall by at most this fraction.")
  var maxHypervolumeDrop: Double?

  @Option(help: "Write a Markdown summary here (a CI job summary).")
  var markdown: String?

  @Option(help: "Write the gates as JUnit XML here.")
  var junit: String?

  @Flag(help: "Print the diff and the gates as JSON.")
  var json = false

  func validate() throws {
    if let d = maxAccuracyDrop, !(d >= 0 && d <= 1) {
      throw ValidationError("--max-accuracy-drop must be in [0, 1] (0.005 = half a point)")
    }
    if let r = maxLatencyRegression, !(r >= 0 && r.isFinite) {
      throw ValidationError("--max-latency-regression must be ≥ 0 (0.1 = 10 %)")
    }
    if let n = minVariants, n < 1 { throw ValidationError("--min-variants must be at least 1") }
    if let h = maxHypervolumeDrop, !(h >= 0 && h <= 1) {
      throw ValidationError("--max-hypervolume-drop must be in [0, 1]")
    }
    if let m = markdown { try checkOutputDirectory(m, option: "--markdown") }
    if let j = junit { try checkOutputDirectory(j, option: "--junit") }
  }

  struct Report: Encodable {
    var diff: BundleDiff
    var gates: [BundleGates.Result]
    var passed: Bool
  }

  func run() throws {
    let started = Date()
    let a = try ModelBundle.open(old)
    let b = try ModelBundle.open(new)
    var gates =
      try recipe.map { (r) throws(AdaError) in try Recipe.load(path: r).gates ?? BundleGates() }
      ?? BundleGates()
    gates = gates.overridden(
      by: BundleGates(
        maxAccuracyDrop: maxAccuracyDrop, maxLatencyRegression: maxLatencyRegression,
        minVariants: minVariants,
        maxHypervolumeDrop: maxHypervolumeDrop))
    let diff = BundleDiff.compare(old: a.manifest, at: old, new: b.manifest, at: new)
    let results = gates.evaluate(diff)
    let passed = results.allSatisfy(\.passed)
    if let markdown {
      try Self.write(diff.markdown(gates: results), to: markdown)
    }
    if let junit {
      try Self.write(
        JUnitReport.xml(
          suite: "adascale diff \(old) \(new)", results: results, seconds: Date().timeIntervalSince(started)),
        to: junit)
    }
    if json {
      try Output.printJSON(Report(diff: diff, gates: results, passed: passed))
    } else {
      print(Self.text(diff, results))
    }
    if !passed {
      for r in results where !r.passed {
        FileHandle.standardError.write(Data("gate failed: \(r.gate): \(r.message)\n".utf8))
      }
      throw ExitCode(3)
    }
  }

  /// `text` into `path`, atomically.
  static func write(_ text: String, to path: String) throws(AdaError) {
    try AtomicFile.write(to: path) { (temporary) throws(AdaError) in
      do {
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
      } catch {
        throw AdaError(.writeFailed, file: temporary, "cannot write: \(error.localizedDescription)")
      }
    }
  }

  static func text(_ d: BundleDiff, _ gates: [BundleGates.Result]) -> String {
    func pct(_ v: Double) -> String { String(format: "%.2f%%", v * 100) }
    var lines = [
      "old \(d.old.path): \(d.old.variants) variants, best \(pct(d.old.bestAccuracy)), fastest "
        + String(format: "%.4f ms, hypervolume %.4f", d.old.fastestMs, d.old.hypervolume),
      "new \(d.new.path): \(d.new.variants) variants, best \(pct(d.new.bestAccuracy)), fastest "
        + String(format: "%.4f ms, hypervolume %.4f", d.new.fastestMs, d.new.hypervolume),
    ]
    func cell(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "-" }
    let rows: [[String]] = d.pairs.map { p in
      let ids = [p.old?.id ?? "-", p.new?.id ?? "-", p.matchedBy.rawValue]
      let accuracy = [
        cell(p.old.map { $0.accuracy * 100 }, "%.2f%%"), cell(p.new.map { $0.accuracy * 100 }, "%.2f%%"),
      ]
      let change = cell(p.accuracyChange.map { $0 * 100 }, "%+.2f")
      let latency = [cell(p.old?.latencyMs, "%.4f"), cell(p.new?.latencyMs, "%.4f")]
      return ids + accuracy + [change] + latency + [cell(p.latencyChange.map { $0 * 100 }, "%+.1f%%")]
    }
    lines.append(
      Output.table(
        header: [
          "old", "new", "matched by", "old acc", "new acc", "Δ points", "old ms", "new ms", "Δ latency",
        ],
        rows: rows))
    for g in gates { lines.append("gate \(g.gate): \(g.passed ? "pass" : "FAIL") — \(g.message)") }
    if gates.isEmpty { lines.append("no gates set (--recipe with a gates: section, or --max-… options)") }
    return lines.joined(separator: "\n")
  }
}
