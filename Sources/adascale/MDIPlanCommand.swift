import AdaBundle
import AdaDistributed
import AdaTensor
import ArgumentParser
import Foundation

/// `adascale mdi plan`: the split of a variant over a chain of devices that maximises
/// steady-state throughput.
struct MDIPlanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plan",
    abstract: "Choose where to cut a variant across a chain of devices for the highest throughput.",
    discussion: HelpText.reflow(
      """
      Device i runs segment i. Per candidate split, each stage's time per admitted input is its
      compute on its device (the bundle's per-op table, ops-lut.json, scaled to the device by its
      roofline model, docs/profiler.md) for the inputs that reach it, plus sending the crossing
      features to the next device (bytes / bandwidth + link latency) for the inputs that did not
      exit; with --exits, the shares leaving at each exit are the operating point's validation
      exit rates. The split maximising 1 / (slowest stage) is printed per stage, with the
      variant on the first device alone and, with --exits, the best split without early exits.
      Only cuts on the backbone with at most --max-crossing tensors crossing are considered.

      --simulate N runs N inputs through the chosen plan in a discrete-event simulation of the
      chain as `mdi serve`/`mdi run` emulate it (queues, links, exits drawn at their rates).

      Examples:
        adascale mdi plan --bundle B --variant v03 \\
          --devices raspberry-pi-4,raspberry-pi-4,raspberry-pi-4 --link-mbps 20 \\
          --link-ms 2
        adascale mdi plan --bundle B --variant v03 \\
          --devices raspberry-pi-4,jetson-nano-cpu --exits drop-1 --json
        adascale mdi plan --bundle B --variant v03 \\
          --devices raspberry-pi-4,raspberry-pi-4 --features int8
        adascale mdi plan --bundle B --variant v03 \\
          --devices raspberry-pi-4,raspberry-pi-4 --pipelined-links \\
          --simulate 5000 --window 32
      """))

  @OptionGroup var variantOptions: VariantOptions

  @Option(
    help: "Comma-separated devices of the chain, source first (names from recipes/devices or .yaml paths).")
  var devices: String

  @OptionGroup var linkOptions: LinkOptions

  @Option(help: "How features travel: float32 or int8 (1 byte per scalar + a scale per tensor).")
  var features: String = "float32"

  @Option(help: "Largest number of tensors crossing a cut (residual connections cross with the trunk).")
  var maxCrossing = 2

  @Flag(
    help:
      "Charge a sender only the serialisation time (bytes / bandwidth): link latency delays inputs without occupying the sender, as `mdi serve`/`mdi run` emulate."
  )
  var pipelinedLinks = false

  @Option(help: "Also simulate this many inputs through the plan (discrete-event, docs/mdi.md).")
  var simulate: Int?

  @Option(help: "Simulated admission: inputs per second (default: as fast as --window allows).")
  var rate: Double?

  @Option(help: "Simulated admission: most tasks in flight.")
  var window = 8

  @Option(help: "Seed of the simulated exit draws.")
  var seed: UInt64 = 1

  @Flag(help: "Also list every candidate cut point.")
  var cuts = false

  @Flag(help: "Print JSON: the plan, the no-exit plan, the baselines and the cut points.")
  var json = false

  func run() throws {
    guard let encoding = FeatureEncoding(rawValue: features) else {
      throw AdaError(.invalidValue, path: "--features", "expected float32 or int8, found '\(features)'")
    }
    let names = devices.split(separator: ",", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
      throw AdaError(
        .invalidValue, path: "--devices", "expected comma-separated device names, found '\(devices)'")
    }
    guard variantOptions.points.count <= 1 else {
      throw AdaError(
        .invalidValue, path: "--exits",
        "plan takes one operating point, found \(variantOptions.points.count) (a list is for serve and run)")
    }
    let bundle = try ModelBundle.open(variantOptions.bundle)
    var request = MDIPlanRequest(
      variant: variantOptions.variant, devices: names, link: linkOptions.link,
      operatingPoint: variantOptions.operatingPoint, encoding: encoding, maxCrossingTensors: maxCrossing)
    request.pipelinedLinks = pipelinedLinks
    let report = try MDIPlanning.plan(bundle: bundle, request: request)
    var simulated: ChainSimulator.Result?
    if let n = simulate {
      guard n >= 1 else {
        throw AdaError(.invalidValue, path: "--simulate", "expected at least 1 input, found \(n)")
      }
      guard rate.map({ $0.isFinite && $0 > 0 }) ?? true else {
        throw AdaError(.invalidValue, path: "--rate", "expected inputs per second > 0, found \(rate!)")
      }
      guard window >= 1 else {
        throw AdaError(.invalidValue, path: "--window", "expected at least 1, found \(window)")
      }
      let sim = ChainSimulator(config: report.simulation)
      simulated = sim.run(
        answers: sim.drawAnswers(n, seed: seed), admission: rate.map { .rate($0) } ?? .window(window))
    }
    if json {
      struct WithSimulation: Encodable {
        var report: MDIPlanReport
        var simulated: ChainSimulator.Result?
        func encode(to encoder: Encoder) throws {
          try report.encode(to: encoder)
          var c = encoder.container(keyedBy: Key.self)
          try c.encodeIfPresent(simulated, forKey: .simulated)
        }
        enum Key: String, CodingKey { case simulated }
      }
      try Output.printJSON(WithSimulation(report: report, simulated: simulated))
      return
    }
    print(
      "variant \(report.variant) over \(report.devices.joined(separator: " → ")), link "
        + "\(fmt(report.link.mbps)) Mbit/s + \(fmt(report.link.latencyMs)) ms"
        + (report.pipelinedLinks ? " (pipelined)" : "") + ", features \(report.encoding.rawValue)"
        + (report.operatingPoint.map { ", exits at '\($0)'" } ?? ", no early exits"))
    if !report.exitRates.isEmpty {
      print(
        "exit rates (validation): "
          + report.exitRates.map { "\($0.output) \(pct($0.rate))" }.joined(
            separator: ", "))
    }
    print("")
    printPlan(report.plan, title: "plan")
    if let noExit = report.noExitPlan {
      print("")
      printPlan(noExit, title: "the same devices without early exits")
    }
    print("")
    var rows = report.baselines.map { [$0.name, fmt($0.bottleneckMs), fmt($0.throughput)] }
    rows.insert(["this plan", fmt(report.plan.bottleneckMs), fmt(report.plan.throughput)], at: 0)
    if let n = report.noExitPlan {
      rows.insert(["split, no exits", fmt(n.bottleneckMs), fmt(n.throughput)], at: 1)
    }
    print(Output.table(header: ["compared with", "bottleneck ms", "inputs/s"], rows: rows))
    if let best = report.baselines.first, best.throughput > report.plan.throughput {
      print("note: \(best.name) is faster than any split: the link costs more than the split saves")
    }
    if !report.fallbackNodes.isEmpty {
      print(
        "note: \(report.fallbackNodes.count) node(s) had no row in ops-lut.json and were estimated from the "
          + "roofline: \(report.fallbackNodes.prefix(6).joined(separator: ", "))"
          + (report.fallbackNodes.count > 6 ? ", …" : ""))
    }
    if let r = simulated {
      let l = r.latencyMs
      print(
        "simulated \(r.tasks) inputs (\(rate.map { "\(fmt($0))/s" } ?? "window \(window)")): \(fmt(r.throughput)) inputs/s, "
          + "latency ms p50 \(fmt(l["p50"]!)) p90 \(fmt(l["p90"]!)) p99 \(fmt(l["p99"]!)), answered per stage "
          + r.answeredPerSegment.map(String.init).joined(separator: "/") + ", longest queue per stage "
          + r.maxQueue.map(String.init).joined(separator: "/"))
    }
    if cuts {
      print("")
      print(
        Output.table(
          header: ["cut after", "position", "crossing", "scalars/input"],
          rows: report.cutPoints.map {
            [
              $0.after, String($0.position), $0.crossing.joined(separator: "+"),
              Output.grouped($0.scalarsPerExample),
            ]
          }))
    }
    print("")
    if report.plan.cutAfter.isEmpty {
      print("one device: nothing to cut")
    } else {
      print("serve and run this plan with --cut-after \(report.plan.cutAfter.joined(separator: ","))")
    }
  }

  func printPlan(_ plan: PartitionPlan, title: String) {
    print(
      "\(title): cut after \(plan.cutAfter.isEmpty ? "nothing" : plan.cutAfter.joined(separator: ", ")); "
        + "\(fmt(plan.throughput)) inputs/s (bottleneck stage \(plan.bottleneckStage), "
        + "\(fmt(plan.bottleneckMs)) ms), full-path latency \(fmt(plan.fullPathLatencyMs)) ms")
    let rows = plan.stages.enumerated().map { i, s in
      [
        String(i), s.device, "\(s.firstNode) … \(s.lastNode)", String(s.nodeCount), pct(s.arriving),
        fmt(s.computeMs),
        s.exits.isEmpty ? "-" : zip(s.exits, s.exitRates).map { "\($0) \(pct($1))" }.joined(separator: ", "),
        s.sends.isEmpty ? "-" : s.sends.joined(separator: "+"), Output.grouped(s.sendBytes), fmt(s.linkMs),
        fmt(s.stageMs),
      ]
    }
    print(
      Output.table(
        header: [
          "stage", "device", "nodes", "count", "arriving", "compute ms", "exits", "sends", "bytes", "link ms",
          "stage ms",
        ], rows: rows))
  }

  func fmt(_ x: Double) -> String {
    x >= 100 ? String(format: "%.1f", x) : x >= 1 ? String(format: "%.3f", x) : String(format: "%.4f", x)
  }

  func pct(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
}
