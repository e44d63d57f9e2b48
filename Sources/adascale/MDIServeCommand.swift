import AdaBundle
import AdaDistributed
import AdaFormats
import AdaProfile
import AdaTensor
import ArgumentParser
import Foundation

/// `--cut-after --features --link-mbps --link-ms`: how the chain is cut and how its links are
/// emulated, shared by `mdi serve` and `mdi run` (every process of a chain must agree).
struct ChainOptions: ParsableArguments {
  @Option(
    help:
      "Comma-separated nodes after which the variant is cut (what `mdi plan` prints); \"\" for no cut (mdi run: the source alone)."
  )
  var cutAfter: String

  @Option(help: "How features travel: float32 (exact) or int8.")
  var features: String = "float32"

  @Option(help: "Emulate a link of this bandwidth on what this process sends, Mbit/s (default: unshaped).")
  var linkMbps: Double?

  @Option(help: "Emulated one-way link latency, ms (with --link-mbps; default 0).")
  var linkMs: Double = 0

  var cuts: [String] { cutAfter.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

  func encoding() throws(AdaError) -> FeatureEncoding {
    guard let e = FeatureEncoding(rawValue: features) else {
      throw AdaError(.invalidValue, path: "--features", "expected float32 or int8, found '\(features)'")
    }
    return e
  }

  func link() throws(AdaError) -> Link? {
    guard let mbps = linkMbps else { return nil }
    let link = Link(mbps: mbps, latencyMs: linkMs)
    let request = MDIPlanRequest(variant: "", devices: ["-"], link: link)
    try request.validate()
    return link
  }
}

/// `adascale mdi serve`: one worker of a chain.
struct MDIServeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Serve one segment of a variant: a worker of a model-distributed chain.",
    discussion: HelpText.reflow(
      """
      Holds segment --segment (1 or later; the source runs segment 0) of the variant cut after
      --cut-after, and only that segment's weights. Listens on --host:--port for feature frames
      from the previous device, answers tasks that exit here (or reach the final output) back to
      it, and forwards the rest to --next. Prints `listening on HOST:PORT` once ready, then
      serves until killed. Start the last worker first: each connects to its --next at start.
      When the source re-plans after losing a worker (`mdi run --replan`), this worker takes the
      segment and the next worker the new plan names.

      Emulation (docs/mdi.md): --device stretches each task's compute to the device's modelled
      segment time (when this host is faster); --link-mbps/--link-ms shape what this worker
      sends with a token bucket and a delay. Neither makes anything faster.

      Examples:
        adascale mdi serve --bundle B --variant v03 \\
          --cut-after block_3_add,block_9_add --segment 2 --port 7002
        adascale mdi serve --bundle B --variant v03 \\
          --cut-after block_3_add,block_9_add --segment 1 --port 7001 \\
          --next 127.0.0.1:7002 --device raspberry-pi-4 --link-mbps 20 --link-ms 2
      """))

  @OptionGroup var variantOptions: VariantOptions
  @OptionGroup var chainOptions: ChainOptions

  @Option(help: "Index of the segment this worker holds (1 … number of cuts).")
  var segment: Int

  @Option(help: "Address to listen on.")
  var host = "127.0.0.1"

  @Option(help: "Port to listen on (0: any free port, printed).")
  var port = 0

  @Option(help: "host:port of the worker holding the next segment (required unless this is the last).")
  var next: String?

  @Option(help: "Pace compute to this device's modelled time (name from recipes/devices or a .yaml path).")
  var device: String?

  func run() throws {
    let bundle = try ModelBundle.open(variantOptions.bundle)
    let deployment = try MDIDeployment.load(
      bundle: bundle, variant: variantOptions.variant, operatingPoints: variantOptions.points,
      cutAfter: chainOptions.cuts)
    let count = deployment.chain.segments.count
    guard segment >= 1, segment < count else {
      throw AdaError(
        .invalidValue, path: "--segment",
        "expected a worker segment in 1...\(count - 1) (segment 0 is the source's), found \(segment)")
    }
    guard (0...65535).contains(port) else {
      throw AdaError(.invalidValue, path: "--port", "expected a port in 0...65535, found \(port)")
    }
    let nextEndpoint = try next.map { (n) throws(AdaError) in try Endpoint.parse(n, option: "--next") }
    if segment < count - 1 && nextEndpoint == nil {
      throw AdaError(
        .missing, path: "--next",
        "segment \(segment) of \(count) sends features on: give the next worker's host:port")
    }
    let profile = try device.map { (d) throws(AdaError) in try DeviceCatalog.resolve(d) }
    let pacing = try profile.map { (p) throws(AdaError) in
      try deployment.modelledMs(segment: segment, device: p)
    }
    let step = try deployment.step(segment)
    var config = MDIWorker.Config(
      host: host, port: port, next: nextEndpoint, link: try chainOptions.link(), pacingMs: pacing,
      encoding: try chainOptions.encoding())
    // A source re-planning after a loss (`mdi run --replan`) sends new cuts: load them the same way.
    let (variant, points) = (variantOptions.variant, variantOptions.points)
    config.deploy = { cuts throws(AdaError) in
      try MDIDeployment.load(bundle: bundle, variant: variant, operatingPoints: points, cutAfter: cuts)
    }
    config.device = profile
    config.log = { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    let worker = MDIWorker(step: step, config: config)
    let bound = try worker.start()
    let s = step.segment
    let banner =
      "listening on \(host):\(bound) (segment \(segment) of \(count): \(s.nodes.first!.name) … \(s.nodes.last!.name), "
      + "\(step.parameters.tensors.count) weight tensors"
      + (pacing.map { ", paced to \(String(format: "%.3f", $0)) ms (\(device!))" } ?? "") + ")\n"
    FileHandle.standardOutput.write(Data(banner.utf8))
    worker.wait()
  }
}
