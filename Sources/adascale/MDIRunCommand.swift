import AdaBundle
import AdaDistributed
import AdaFormats
import AdaIO
import AdaNN
import AdaProfile
import AdaTensor
import ArgumentParser
import Foundation

/// `adascale mdi run`: the source of a chain.
struct MDIRunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Run inputs through a model-distributed chain as its source, and report what it measured.",
    discussion: HelpText.reflow(
      """
      Reads the inputs (an HDF5 dataset, [N] + the variant's input shape), admits them one task
      each at --rate inputs/s (or as fast as --window tasks in flight allow), runs segment 0,
      answers tasks confident at its exits, forwards the rest to --next (the worker of segment
      1, `adascale mdi serve`), and collects the answers. Reports throughput, latency
      percentiles (admission to answer), accuracy with --labels, the exit histogram per device
      and the frames and bytes on each link. A task that fails (a worker gone, a rejected
      frame, no answer within --timeout) is reported failed, once.

      With --replan, a worker that is gone (its connection closed) makes the source pause,
      let the tasks in flight end, plan the variant again over the devices that remain
      (--devices, the workers of --chain), send the new cuts down the chain and go on; the
      report lists each re-plan. Without it the lost worker's tasks fail and the run goes on.

      Examples:
        adascale mdi run --bundle B --variant v03 --cut-after block_3_add \\
          --next 127.0.0.1:7001 --input x.h5
        adascale mdi run --bundle B --variant v03 --exits drop-1 \\
          --cut-after block_3_add,block_9_add --next 127.0.0.1:7001 \\
          --input test.h5 --labels test.h5 --labels-dataset y --rate 50 --json
        adascale mdi run --bundle B --variant v03 \\
          --cut-after block_3_add,block_9_add \\
          --chain 127.0.0.1:7001,127.0.0.1:7002 --replan \\
          --devices raspberry-pi-4,raspberry-pi-4,raspberry-pi-4 --input x.h5
      """))

  @OptionGroup var variantOptions: VariantOptions
  @OptionGroup var chainOptions: ChainOptions

  @Option(help: "host:port of the worker of segment 1 (not needed when there is no cut).")
  var next: String?

  @Option(
    help:
      "host:port of every worker, segment 1 first (instead of --next): the workers a re-plan may use.")
  var chain: String?

  @Flag(
    help:
      "When a worker is gone, plan again over the devices that remain (needs --chain and --devices) and go on."
  )
  var replan = false

  @OptionGroup var inputs: LabeledInputOptions

  @Option(help: "Inputs admitted per second (default: as fast as the window allows).")
  var rate: Double?

  @Option(help: "Most tasks in flight at once.")
  var window = 8

  @Option(
    help:
      "Threshold adaptation (with several --exits): a task runs with the k-th operating point when k × this many tasks are in flight (default: window / points)."
  )
  var adaptStep: Int?

  @Flag(
    help:
      "Rate adaptation (with --rate): drop inputs that arrive while the window is full instead of waiting.")
  var dropWhenFull = false

  @Option(help: "Seconds to wait for answers before failing what is in flight.")
  var timeout = 30.0

  @Option(help: "Fail a task not answered this many seconds after its admission (notices a hung worker).")
  var taskTimeout: Double?

  @Option(
    help: "Comma-separated devices of the chain, source first: the source paces segment 0 to the first.")
  var devices: String?

  @Option(
    help: "HDF5 file to write: y (one answer per input, in order) and exit (the output index, -1 if failed).")
  var output: String?

  @Flag(help: "Print the report as JSON.")
  var json = false

  func run() throws {
    guard rate.map({ $0.isFinite && $0 > 0 }) ?? true else {
      throw AdaError(.invalidValue, path: "--rate", "expected inputs per second > 0, found \(rate!)")
    }
    guard window >= 1 else {
      throw AdaError(.invalidValue, path: "--window", "expected at least 1, found \(window)")
    }
    guard timeout > 0 else {
      throw AdaError(.invalidValue, path: "--timeout", "expected seconds > 0, found \(timeout)")
    }
    let bundle = try ModelBundle.open(variantOptions.bundle)
    let deployment = try MDIDeployment.load(
      bundle: bundle, variant: variantOptions.variant, operatingPoints: variantOptions.points,
      cutAfter: chainOptions.cuts)
    let chain = deployment.chain
    let names = devices?.split(separator: ",").map(String.init) ?? []
    let profiles = try names.map { (d) throws(AdaError) in try DeviceCatalog.resolve(d) }
    let pacing = try profiles.first.map { (p) throws(AdaError) in
      try deployment.modelledMs(segment: 0, device: p)
    }
    let workers = try (self.chain?.split(separator: ",").map(String.init) ?? []).map {
      (w) throws(AdaError) in try Endpoint.parse(w, option: "--chain")
    }
    if self.chain != nil {
      if next != nil {
        throw AdaError(.invalidValue, path: "--next", "give --chain or --next, not both")
      }
      guard workers.count == chain.segments.count - 1 else {
        throw AdaError(
          .invalidValue, path: "--chain",
          "\(workers.count) workers for a chain of \(chain.segments.count) segments: expected \(chain.segments.count - 1)"
        )
      }
    }
    if replan {
      guard self.chain != nil else {
        throw AdaError(.missing, path: "--chain", "--replan needs every worker's host:port (--chain)")
      }
      guard names.count == chain.segments.count else {
        throw AdaError(
          .missing, path: "--devices",
          "--replan plans over the devices: expected \(chain.segments.count) (source first), found \(names.count)"
        )
      }
    }
    let nextEndpoint =
      try workers.first ?? next.map { (n) throws(AdaError) in try Endpoint.parse(n, option: "--next") }
    if chain.segments.count > 1 && nextEndpoint == nil {
      throw AdaError(
        .missing, path: "--next", "the chain has \(chain.segments.count) segments: give segment 1's host:port"
      )
    }
    let (x, labelList) = try inputs.read(bundle: bundle, inputShape: chain.graph.inputShape)
    let encoding = try chainOptions.encoding()
    let points = variantOptions.points.count
    if let adaptStep, adaptStep < 1 {
      throw AdaError(.invalidValue, path: "--adapt-step", "expected at least 1 task, found \(adaptStep)")
    }
    if dropWhenFull && rate == nil {
      throw AdaError(
        .missing, path: "--rate", "--drop-when-full drops inputs arriving at --rate: give a rate")
    }
    var sourceConfig = MDISource.Config(
      next: nextEndpoint, link: try chainOptions.link(), pacingMs: pacing, encoding: encoding, rate: rate,
      window: window, timeout: timeout)
    sourceConfig.dropWhenFull = dropWhenFull
    if let taskTimeout {
      guard taskTimeout.isFinite, taskTimeout > 0 else {
        throw AdaError(.invalidValue, path: "--task-timeout", "expected seconds > 0, found \(taskTimeout)")
      }
      sourceConfig.taskTimeout = taskTimeout
    }
    sourceConfig.points = max(1, points)
    if replan {
      sourceConfig.replanning = try replanning(
        bundle: bundle, workers: workers, devices: names, profiles: profiles, encoding: encoding)
    }
    if points > 1 { sourceConfig.pointStep = adaptStep ?? max(1, window / points) }
    let source = MDISource(
      step: try deployment.step(0),
      config: sourceConfig,
      outputSegments: chain.outputSegments)
    let records = try source.run(inputs: x)
    let deviceNames =
      names.isEmpty ? chain.segments.map { $0.index == 0 ? "source" : "worker \($0.index)" } : names
    let report = try MDIRunReport(
      records: records, chain: chain, devices: deviceNames, encoding: encoding, labels: labelList,
      sourceBytes: source.linkBytes, replannedChains: source.replannedChains, replans: source.replans)
    if let output { try write(records, to: output) }
    if json {
      try Output.printJSON(report)
      return
    }
    print(
      "\(report.answered) of \(report.tasks) answered, \(report.failed) failed"
        + (report.rejected > 0 ? ", \(report.rejected) not admitted (window full)" : "")
        + ", in \(String(format: "%.3f", report.wallSeconds)) s: "
        + "\(String(format: "%.1f", report.throughput)) inputs/s")
    let l = report.latencyMs
    print(
      "latency ms: p50 \(f(l["p50"]!)), p90 \(f(l["p90"]!)), p99 \(f(l["p99"]!)), max \(f(l["max"]!)), mean \(f(l["mean"]!))"
    )
    if let a = report.accuracy { print("accuracy: \(String(format: "%.2f%%", a * 100)) of answered") }
    if points > 1 {
      let names = variantOptions.points
      print(
        "operating points (threshold adaptation): "
          + report.perPoint.map { p in
            "\(names[p.point]) \(p.admitted)"
              + (p.accuracy.map { String(format: " (%.2f%%)", $0 * 100) } ?? "")
          }.joined(separator: ", "))
    }
    for r in report.replans {
      print(
        "re-plan at \(f(r.atSeconds)) s: the worker of segment \(r.goneSegment) (\(r.goneWorker), \(r.goneDevice)) "
          + "was gone (\(r.reason)); "
          + (r.error.map { "re-planning failed: \($0)" }
            ?? "cuts \(r.cutAfterBefore.joined(separator: ",")) → \(r.cutAfter.isEmpty ? "none" : r.cutAfter.joined(separator: ",")) "
            + "over \(r.devices.joined(separator: ", ")), admitting again after \(f(r.seconds)) s"))
    }
    let epochs = !report.replans.isEmpty
    print("")
    print(
      Output.table(
        header: (epochs ? ["plan"] : []) + ["segment", "device", "output", "answered", "share"],
        rows: report.exits.map {
          (epochs ? [String($0.epoch)] : []) + [
            String($0.segment), $0.device, $0.output, String($0.count),
            String(format: "%.1f%%", $0.share * 100),
          ]
        }))
    if !report.links.isEmpty {
      print("")
      print(
        Output.table(
          header: (epochs ? ["plan"] : []) + [
            "link", "feature frames", "feature bytes", "result frames", "result bytes",
          ],
          rows: report.links.map {
            (epochs ? [String($0.epoch)] : []) + [
              "\($0.link) → \($0.link + 1)", String($0.featureFrames), Output.grouped($0.featureBytes),
              String($0.resultFrames), Output.grouped($0.resultBytes),
            ]
          }))
    }
    for reason in report.failures { print("failed: \(reason)") }
  }

  func f(_ x: Double) -> String { String(format: "%.3f", x) }

  /// Re-planning over the devices that remain: the planner's cuts for them (`mdi plan` with
  /// pipelined links and the first operating point; an unshaped link is planned as 1 Gbit/s),
  /// the variant cut there, the source paced to its device.
  func replanning(
    bundle: ModelBundle, workers: [Endpoint], devices: [String], profiles: [DeviceProfile],
    encoding: FeatureEncoding
  ) throws(AdaError) -> ChainReplanning {
    let (variant, points) = (variantOptions.variant, variantOptions.points)
    let link = try chainOptions.link() ?? Link(mbps: 1000, latencyMs: 0)
    let sourceDevice = profiles.first
    var r = ChainReplanning(
      workers: workers, devices: devices, initialCutAfter: chainOptions.cuts,
      plan: { alive throws(AdaError) in
        var request = MDIPlanRequest(
          variant: variant, devices: [devices[0]] + alive.map { devices[$0 + 1] }, link: link,
          operatingPoint: points.first, encoding: encoding)
        request.pipelinedLinks = true
        return try MDIPlanning.plan(bundle: bundle, request: request).plan.cutAfter
      },
      deploy: { cuts throws(AdaError) in
        try MDIDeployment.load(bundle: bundle, variant: variant, operatingPoints: points, cutAfter: cuts)
      })
    r.sourcePacing = { d throws(AdaError) in
      try sourceDevice.map { (p) throws(AdaError) in try d.modelledMs(segment: 0, device: p) }
    }
    return r
  }

  func write(_ records: [TaskRecord], to path: String) throws(AdaError) {
    let classes = records.compactMap { $0.answer?.output.count }.max() ?? 1
    var y = Tensor(shape: [records.count, classes])
    var exit = Tensor(shape: [records.count], repeating: -1)
    for (i, r) in records.enumerated() {
      guard let a = r.answer else { continue }
      for (j, v) in a.output.scalars.enumerated() { y.scalars[i * classes + j] = v }
      exit.scalars[i] = Float(a.outputIndex)
    }
    try TensorFile.write([("y", y), ("exit", exit)], to: path)
  }
}
