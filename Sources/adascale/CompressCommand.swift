import AdaBundle
import AdaPipeline
import AdaProfile
import AdaRecipe
import AdaTensor
import AdaTrain
import ArgumentParser
import Foundation

struct CompressCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compress",
    abstract: "Run the AdaScale pipeline for a recipe and write a bundle of variants.",
    discussion: HelpText.reflow(
      """
      Trains the recipe's baseline if it names an architecture, builds a supernet over the model
      (elastic widths, operator branches, weight bits, exits), trains it once, searches it with
      NSGA-II, and writes a bundle: Keras .h5 variants, manifest.json, lut.json/csv, ops-lut.json,
      report.md and pareto.svg (docs/bundle.md). The recipe format is in docs/recipes.md.

      Long stages checkpoint into the work directory (output.work-directory, default
      <output>.work): after an interruption, run the same command again to resume; the result
      is the same as an uninterrupted run. --fresh starts over.

      Examples:
        adascale compress --recipe recipes/fmnist.yaml
        adascale compress --recipe recipes/fmnist_keras.yaml --overwrite --json
        adascale compress --recipe recipes/fmnist.yaml --measure-overhead --overwrite
        adascale compress --recipe recipes/fmnist.yaml --budget 5m --overwrite
        adascale compress --recipe recipes/fmnist_quick.yaml --backend ray \\
          --ray-address 127.0.0.1:6390
        adascale compress --recipes a.yaml b.yaml --backend ray \\
          --ray-address 127.0.0.1:6390

      With a budget (recipe key budget, or --budget), every stage plans its work from the
      throughput measured when it starts so that the run ends within it; the plan is kept in
      the work directory, and the manifest and report.md say what it bought.

      Ray (docs/scale.md): with --backend ray (or search.backend: ray), each generation's
      candidates are scored as Ray tasks on the cluster at --ray-address; the front and bundle
      are the same as the local backend's. With --recipes, each recipe is one task running
      adascale compress (--backend local: one after another here) and one summary table is
      printed. Every node must see the binary, recipes, data and work directories at the same
      paths.
      """))

  @Option(help: "Recipe YAML file (see docs/recipes.md).")
  var recipe: String?

  @Option(
    parsing: .upToNextOption,
    help: "Several recipes, run as one job (each its own adascale compress); prints a summary table.")
  var recipes: [String] = []

  @Option(
    help: ArgumentHelp(
      "Where the work runs: with --recipe, where search candidates are scored (overrides search.backend); with --recipes, where the recipes run (default local).",
      valueName: "local|ray"))
  var backend: String?

  @Option(
    help: ArgumentHelp(
      "The Ray cluster's address (overrides search.ray-address; default $ADASCALE_RAY_ADDRESS).",
      valueName: "host:port"))
  var rayAddress: String?

  @Option(help: "Ray tasks in flight at once (default: one per cluster CPU).")
  var rayTasks: Int?

  @Option(
    help: ArgumentHelp(
      "Search candidates per Ray task; auto: a generation's new candidates spread evenly over the tasks in flight (one worker start per slot).",
      valueName: "n|auto"))
  var rayChunk = "auto"

  /// `--ray-chunk` as a number, 0 for auto.
  var rayChunkCount: Int { rayChunk == "auto" ? 0 : Int(rayChunk) ?? 0 }

  @Flag(help: "Replace an existing bundle at the recipe's output directory.")
  var overwrite = false

  @Flag(help: "Discard the work directory (checkpoints, baseline, latency table) and start over.")
  var fresh = false

  @Flag(help: "Skip the random-search comparison (saves one search's worth of evaluations).")
  var noCompareRandom = false

  @Flag(help: "Also fine-tune every emitted variant one by one and report the training-overhead saving.")
  var measureOverhead = false

  @Option(help: "Timed milliseconds per op signature when profiling.")
  var probeBudgetMs: Double = 40

  @Option(help: "Per-op latency table directory (default: $XDG_CACHE_HOME/adascale/profile).")
  var latencyCache: String?

  @Option(
    help: ArgumentHelp(
      "Wall-clock budget for the whole run, overriding the recipe's budget: seconds (600) or with a unit (90s, 10m, 1.5h); none for no budget.",
      valueName: "duration"))
  var budget: String?

  @Flag(help: "Print the manifest as JSON when done (progress still goes to standard error).")
  var json = false

  @Option(
    help: ArgumentHelp(
      "Progress on standard error: auto (a bar at a terminal, plain lines otherwise), bar, plain (lines stamped with the elapsed time, one every 15 s during training: CI logs), or none.",
      valueName: "auto|bar|plain|none"))
  var progress = "auto"

  func validate() throws {
    if (recipe == nil) == recipes.isEmpty {
      throw ValidationError("give one recipe with --recipe, or several with --recipes")
    }
    if let backend, !["local", "ray"].contains(backend) {
      throw ValidationError("--backend must be local or ray; found '\(backend)'")
    }
    if let rayAddress, !Recipe.SearchSpec.isRayAddress(rayAddress) {
      throw ValidationError("--ray-address: expected host:port (e.g. 127.0.0.1:6379), found '\(rayAddress)'")
    }
    if let rayTasks, rayTasks < 1 { throw ValidationError("--ray-tasks must be at least 1") }
    if rayChunk != "auto" && (Int(rayChunk) ?? 0) < 1 {
      throw ValidationError("--ray-chunk must be auto or at least 1; found '\(rayChunk)'")
    }
    if !recipes.isEmpty && json { throw ValidationError("--json takes one --recipe, not --recipes") }
    if probeBudgetMs <= 0 { throw ValidationError("--probe-budget-ms must be positive") }
    if !["auto", "bar", "plain", "none"].contains(progress) {
      throw ValidationError("--progress must be auto, bar, plain or none; found '\(progress)'")
    }
    if let budget, budget != "none", Recipe.duration(budget) == nil {
      throw ValidationError(
        "--budget: expected a positive duration: seconds (600) or with s, m or h (90s, 10m, 1.5h), or none; found '\(budget)'"
      )
    }
  }

  func run() throws {
    guard let recipe else { return try CompressRecipes(command: self).run() }
    var parsed = try Recipe.load(path: recipe)
    if let budget { parsed.budgetSeconds = budget == "none" ? nil : Recipe.duration(budget) }
    // The recipe's model and dataset files come from elsewhere: decoded in a child first.
    if case .file(let path, let config) = parsed.model {
      try IsolatedDecode.check(.model, parsed.resolve(path), config: config.map(parsed.resolve))
    }
    try IsolatedDecode.check(.dataset, parsed.resolve(parsed.dataset.source))
    let log = Self.log(progress: progress)
    let result = try CompressPipeline.run(
      parsed,
      options: CompressPipeline.Options(
        version: AdaScaleVersion.string, overwrite: overwrite, fresh: fresh, compareRandom: !noCompareRandom,
        measureOverhead: measureOverhead, probeBudgetMs: probeBudgetMs,
        latencyCache: latencyCache ?? LatencyCache.defaultDirectory,
        searchBackend: backend.flatMap(Recipe.SearchSpec.Backend.init(rawValue:)), rayAddress: rayAddress,
        rayMaxInFlight: rayTasks, rayChunk: rayChunkCount),
      log: log)
    if json { return try Output.printJSON(result.manifest) }
    print(CompressSummary.render(result))
  }

  /// The progress output `--progress` asks for (`auto`: a bar at a terminal, else plain).
  static func log(progress: String) -> PipelineLog {
    let mode = progress == "auto" ? (Output.stderrIsTerminal ? "bar" : "plain") : progress
    switch mode {
    case "none": return PipelineLog(write: { _ in }, trainingReporter: SilentReporter())
    case "bar": return PipelineLog(trainingReporter: TerminalProgressBar(isTerminal: true))
    default:
      let started = Date()
      let stamp = { () -> String in
        let s = Int(Date().timeIntervalSince(started))
        return String(format: "[+%02d:%02d:%02d] ", s / 3600, s / 60 % 60, s % 60)
      }
      let write: (String) -> Void = { text in
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let body = lines.map { $0.isEmpty ? "" : stamp() + $0 }.joined(separator: "\n")
        FileHandle.standardError.write(Data(body.utf8))
      }
      return PipelineLog(
        write: { write($0 + "\n") },
        trainingReporter: TerminalProgressBar(isTerminal: false, plainInterval: 15, write: write))
    }
  }
}
