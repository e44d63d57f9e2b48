import AdaBundle
import AdaIO
import AdaProfile
import AdaRuntime
import AdaTensor
import ArgumentParser
import Foundation

struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Run a bundle adaptively: each batch on the variant that suits the moment.",
    discussion: HelpText.reflow(
      """
      Before every batch adascale samples the machine (CPU share left by other work, memory,
      cgroup limits, clock, battery, temperature), predicts each variant's latency from the
      bundle's lookup table, and runs the most accurate variant that meets the latency SLO and
      fits the memory, with hysteresis so that it does not flap; measured latency corrects the
      predictions (docs/runtime.md). One line per batch says which variant ran, why, and the
      predicted and measured milliseconds. Inputs are read from dataset `x` of --input; outputs
      of the last pass are written to dataset `y` of --output.

      Without --slo-ms the SLO is 1.25 × the most accurate variant's measured latency at the
      batch size (it is on time on an idle machine).

      Early exits (variants with an exit plan): each input leaves at the first exit whose
      confidence reaches the threshold of the operating point in force, and is not run further.
      --exits auto (the default) lets the selector pick an operating point as well as a variant:
      under contention it moves to cheaper thresholds before smaller variants. --exits NAME
      holds one operating point (e.g. drop-0.5); --exits off runs the static variants. The
      report gives the exit histogram and the mean MACs and milliseconds per input.

      Examples:
        adascale run --bundle out/fmnist-bundle --input x.h5 --output y.h5 --slo-ms 2
        adascale run --bundle B --input x.h5 --output y.h5 --batch 32 \\
          --accuracy-floor 0.88 --json
        # a stream
        adascale run --bundle B --input x.h5 --output y.h5 --period-ms 20 \\
          --repeat 50
        adascale run --bundle B --input x.h5 --output y.h5 --exits drop-0.5
        # one variant, static
        adascale run --bundle B --input x.h5 --output y.h5 --variant v08 \\
          --exits off
      """))

  @Option(help: "Bundle directory (written by `adascale compress`).")
  var bundle: String

  @OptionGroup var io: TensorIOOptions

  @OptionGroup var policyOptions: PolicyOptions

  @Option(help: "Examples per batch (one decision per batch).")
  var batch = 1

  @Option(help: "Start a batch every N ms (sleep between batches), like a camera stream.")
  var periodMs: Double?

  @Option(help: "Passes over the input (the output holds the last pass).")
  var `repeat` = 1

  @Option(help: "Keep at most this many MB of variant weights in memory (least recently used dropped).")
  var memoryBudgetMb: Double?

  @Flag(help: "Load every variant (within the memory budget) before the first batch.")
  var eager = false

  @Option(
    help: ArgumentHelp(
      "Early exits: auto (the selector picks operating points too), off, or an operating point's name.",
      valueName: "auto|off|name"))
  var exits = "auto"

  @Option(
    help:
      "Run only this variant (with its operating points, as --exits says), e.g. to time it with and without exits."
  )
  var variant: String?

  @Flag(help: "Print a JSON report instead of one line per batch.")
  var json = false

  func validate() throws {
    try policyOptions.validate()
    if batch < 1 { throw ValidationError("--batch must be at least 1") }
    if `repeat` < 1 { throw ValidationError("--repeat must be at least 1") }
    if let p = periodMs, !(p > 0) { throw ValidationError("--period-ms must be positive") }
    if let m = memoryBudgetMb, !(m > 0) { throw ValidationError("--memory-budget-mb must be positive") }
    if exits.isEmpty { throw ValidationError("--exits needs auto, off or an operating point's name") }
  }

  func run() throws {
    let opened = try ModelBundle.open(bundle)
    let mode = ExitMode(parsing: exits)
    let profiles = try VariantProfile.profiles(
      from: opened, device: policyOptions.device, exits: mode, only: variant)
    let policy = policyOptions.policy(for: profiles, batch: batch)
    let model = try AdaptiveModel(
      bundle: opened, policy: policy, device: policyOptions.device, loading: eager ? .eager : .lazy,
      memoryBudgetBytes: memoryBudgetMb.map { Int($0 * 1_048_576) }, exits: mode, only: variant)
    let x = try readInput()
    let n = x.shape[0]
    if !json {
      let count = opened.manifest.variants.count
      let variants = variant.map { "variant \($0) only (of \(count))" } ?? "\(count) variants"
      let points = profiles.filter { $0.operatingPoint != nil }.count
      let withExits = opened.manifest.variants.contains { $0.exits != nil }
      let exitsText = withExits ? " (+\(points) operating points, exits \(mode))" : ""
      Self.say(
        "bundle \(bundle): \(variants)\(exitsText); SLO \(RunReport.ms(policy.sloMs!)) per batch of "
          + "\(batch); accuracy floor \(policy.accuracyFloor)")
      Self.say(RunReport.header)
    }
    var steps: [RunReport.Step] = []
    var lastOutputs: [[Tensor]] = []
    for pass in 0..<`repeat` {
      lastOutputs = []
      for start in stride(from: 0, to: n, by: batch) {
        let began = ResourceMonitor.monotonicSeconds()
        let slice = x.slice(batch: start..<min(start + batch, n))
        let r: AdaptiveResult
        do {
          r = try model.predict(slice)
        } catch {
          throw error.kind == .badShape ? io.inputError(.badShape, error.message) : error
        }
        lastOutputs.append(r.outputs)
        let step = RunReport.Step(
          index: steps.count, pass: pass, examples: slice.shape[0], result: r, slo: policy.sloMs!)
        steps.append(step)
        if !json {
          Self.say(RunReport.line(step))
        }
        if let p = periodMs {
          let left = p / 1e3 - (ResourceMonitor.monotonicSeconds() - began)
          if left > 0 { usleep(UInt32(left * 1e6)) }
        }
      }
    }
    try writeOutputs(lastOutputs)
    let report = RunReport(
      bundle: bundle, input: io.input, output: io.output, policy: policy, exits: mode.description,
      steps: steps,
      loadedVariants: model.loadedVariants, memoryBudgetBytes: model.memoryBudgetBytes,
      peakWeightBytes: model.peakWeightBytes, peakRssMB: LiveReplay.peakResidentMB())
    if json { return try Output.printJSON(report) }
    Self.say(report.summary)
  }

  /// Unbuffered stdout, so a watcher sees each batch as it ends.
  static func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

  /// The input, at least one example.
  func readInput() throws(AdaError) -> Tensor {
    let x = try io.readInput()
    guard x.rank >= 1, x.shape[0] > 0 else {
      throw io.inputError(.badShape, "expected [N, …] with N ≥ 1, found \(x.shape)")
    }
    return x
  }

  /// Concatenates the batches of the last pass; every variant of a bundle has the same outputs.
  func writeOutputs(_ batches: [[Tensor]]) throws(AdaError) {
    let count = batches[0].count
    for (i, b) in batches.enumerated()
    where b.count != count
      || zip(b, batches[0]).contains(where: {
        Array($0.shape.dropFirst()) != Array($1.shape.dropFirst())
      })
    {
      throw AdaError(
        .badFormat, file: bundle,
        "variants of the bundle give different outputs (batch \(i) has \(b.map(\.shape)))")
    }
    let ys = (0..<count).map { o in Tensor.concatenate(batches: batches.map { $0[o] }) }
    try io.write(ys)
  }
}

/// `--slo-ms --accuracy-floor --energy-weight --memory-headroom --device`, shared by run and
/// simulate.
struct PolicyOptions: ParsableArguments {
  @Option(help: "Latency SLO per batch, ms (default: 1.25 × the most accurate variant's latency).")
  var sloMs: Double?

  @Option(help: "Never choose a variant below this accuracy (0–1) while one above it fits.")
  var accuracyFloor: Double = 0

  @Option(help: "Accuracy traded per unit of relative energy at an empty battery (0 disables).")
  var energyWeight: Double = 0.05

  @Option(help: "Fraction of the available memory to keep free.")
  var memoryHeadroom: Double = 0.1

  @Option(help: "Device whose lookup-table rows to use (default: the host).")
  var device: String?

  @Option(
    help:
      "Tail-aware SLO: the percentile of a batch's latency (e.g. 0.95) that must meet it, learned from the spread of measured/predicted latency (default: the mean must)."
  )
  var sloPercentile: Double?

  @Option(help: "Batches the tail-aware margin is learned over (the latest ones).")
  var tailWindow = 64

  @Option(help: "Smallest tail margin (a fixed safety factor on every prediction, 1 = none).")
  var tailMarginMin = 1.0

  func validate() throws {
    if let s = sloMs, !(s > 0) { throw ValidationError("--slo-ms must be positive") }
    if !(accuracyFloor >= 0 && accuracyFloor <= 1) {
      throw ValidationError("--accuracy-floor must be in [0, 1]")
    }
    if !(energyWeight >= 0) { throw ValidationError("--energy-weight must be ≥ 0") }
    if !(memoryHeadroom >= 0 && memoryHeadroom < 1) {
      throw ValidationError("--memory-headroom must be in [0, 1)")
    }
    if let q = sloPercentile, !(q > 0 && q < 1) {
      throw ValidationError("--slo-percentile must be in (0, 1), e.g. 0.95")
    }
    if tailWindow < 1 { throw ValidationError("--tail-window must be at least 1") }
    if !(tailMarginMin >= 1 && tailMarginMin <= 4) {
      throw ValidationError("--tail-margin-min must be in [1, 4]")
    }
  }

  func policy(for profiles: [VariantProfile], batch: Int) -> Policy {
    Policy(
      sloMs: sloMs ?? Policy.defaultSLO(for: profiles, batch: batch), accuracyFloor: accuracyFloor,
      batch: batch, memoryHeadroom: memoryHeadroom, maxEnergyWeight: energyWeight,
      sloPercentile: sloPercentile,
      tailWindow: tailWindow, tailMarginBounds: tailMarginMin...4)
  }
}
