import AdaBundle
import AdaProfile
import AdaRuntime
import AdaTensor
import ArgumentParser
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

struct ReplayCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract: "Replay a context trace live: real CPU and memory interference, every policy in one pass.",
    discussion: HelpText.reflow(
      """
      Reproduces each row of a context trace on this machine for real and streams batches
      through the adaptive policy and, in the same pass, through each variant held fixed (same
      inputs, same order, policies rotated every slot). CPU share: busy helper processes, as
      many and as busy as this machine's cores need for the row's share. Free memory: a helper
      that allocates and touches the difference between the emulated device's memory and the
      row's. Clock, battery and thermal state are injected from the row (the CPU does not
      really slow down). The policies see what the resource monitor measures.

      Per policy: late share (measured latency over the SLO), latency percentiles, accuracy
      (with labels), modelled energy, switches, memory violations, and `adascale simulate`'s
      prediction for the same trace beside it. Helpers are ended by their process ids when the
      replay ends, fails or is interrupted (SIGINT, SIGTERM), and end by themselves if it is
      killed. docs/runtime.md, "Live replay".

      Without --slo-ms the SLO is 1.25 × the most accurate variant's median latency measured
      idle in the warm-up; the adaptive policy keeps it at --slo-percentile (default 0.95).

      Examples:
        adascale replay --bundle bundles/fmnist --trace recipes/traces/cpu_hog.csv \\
          --dataset fashion-mnist
        adascale replay --bundle B --trace T.csv --input x.h5 --labels y.h5 \\
          --batch 16 --speed 2 --json
        adascale replay --bundle B --trace recipes/traces/two_hogs.csv \\
          --dataset fashion-mnist --limit 2000
      """))

  @Option(help: "Bundle directory (written by `adascale compress`).")
  var bundle: String

  @Option(help: "Context trace, CSV (see recipes/traces/).")
  var trace: String

  @OptionGroup var inputs: LabeledInputOptions

  @OptionGroup var policyOptions: PolicyOptions

  @Option(help: "Examples per batch (one decision per batch).")
  var batch = 16

  @Option(help: "Trace seconds per wall-clock second.")
  var speed = 1.0

  @Option(help: "Memory the emulated device has free at the start, MB (default: the trace's largest).")
  var deviceMemoryMb: Double?

  @Option(help: "Most CPU hog processes.")
  var maxHogs = 8

  @Option(
    help:
      "Early exits for the adaptive policy: auto (it picks operating points too, as `adascale run` does) or off; the fixed variants run static."
  )
  var exits = "auto"

  @Option(help: "Warm-up batches per policy before the trace (they time the idle latencies).")
  var warmup = 30

  @Flag(help: "Print a JSON report.")
  var json = false

  func validate() throws {
    try policyOptions.validate()
    if batch < 1 { throw ValidationError("--batch must be at least 1") }
    if !(speed > 0 && speed.isFinite) { throw ValidationError("--speed must be positive") }
    if let m = deviceMemoryMb, !(m > 0) { throw ValidationError("--device-memory-mb must be positive") }
    if maxHogs < 0 || maxHogs > 64 { throw ValidationError("--max-hogs must be in 0…64") }
    if !["off", "auto"].contains(exits) { throw ValidationError("--exits must be off or auto") }
    if warmup < 1 { throw ValidationError("--warmup must be at least 1") }
  }

  func run() throws {
    let opened = try ModelBundle.open(bundle)
    let context = try ContextTrace.load(path: trace)
    let inputShape = try opened.loadVariant(opened.manifest.variants[0].id).0.graph.inputShape
    let (x, labels) = try inputs.read(bundle: opened, inputShape: inputShape)
    let mode: ExitMode = exits == "auto" ? .auto : .off
    let profiles = try VariantProfile.profiles(from: opened, device: policyOptions.device, exits: mode)
    var policy = policyOptions.policy(for: profiles, batch: batch)
    if policyOptions.sloMs == nil { policy.sloMs = nil }
    if policy.sloPercentile == nil { policy.sloPercentile = 0.95 }
    var options = LiveReplay.Options()
    options.speed = speed
    options.deviceMemoryMB = deviceMemoryMb
    options.maxHogs = maxHogs
    options.exits = mode
    options.device = policyOptions.device
    options.warmup = warmup
    let needsBalloon = deviceMemoryMb != nil || context.rows.contains { $0.context.memoryAvailableMB != nil }
    let interference = try Interference(
      executable: try Self.executable(), hogs: maxHogs, balloon: needsBalloon)
    defer { interference.stop() }
    ReplaySignals.install()
    let pids = interference.helpers.map { "\($0.role) \($0.pid)" }.joined(separator: ", ")
    Self.note("replay: helpers started (\(pids))")
    let report = try LiveReplay.run(
      bundle: opened, trace: context, inputs: x, labels: labels, policy: policy, options: options,
      interference: interference, stop: { ReplaySignals.received != 0 },
      progress: { line in if !json { Self.note("replay: " + line) } })
    interference.stop()
    Self.note("replay: helpers ended")
    if json {
      try Output.printJSON(report)
    } else {
      print(ReplayReport.text(report))
    }
    if report.interrupted {
      throw ExitCode(ReplaySignals.received == SIGTERM ? 143 : 130)
    }
  }

  /// This process's executable (the helpers are its hidden `interfere` command).
  static func executable() throws(AdaError) -> String {
    guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
      throw AdaError(.internalError, file: "/proc/self/exe", "cannot find the adascale executable")
    }
    return path
  }

  static func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}

/// SIGINT and SIGTERM set a flag the replay checks between slots, so that it ends its helpers
/// before exiting.
enum ReplaySignals {
  nonisolated(unsafe) static var received: Int32 = 0

  static func install() {
    signal(SIGINT) { ReplaySignals.received = $0 }
    signal(SIGTERM) { ReplaySignals.received = $0 }
  }
}
