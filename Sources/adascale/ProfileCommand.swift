import AdaFormats
import AdaIO
import AdaNN
import AdaProfile
import AdaRecipe
import AdaTensor
import ArgumentParser
import Foundation

struct ProfileCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "profile",
    abstract: "Measure per-layer latency on this host and model it on other devices.",
    discussion: HelpText.reflow(
      """
      Times every layer alone at batch 1 (warm-up, interleaved rounds, median of means), sums
      them into a predicted model latency and times the whole model to show the error. Results
      are cached per layer signature and machine (--cache). Devices other than 'host' are
      modelled from the host measurements (see docs/profiler.md). A --model ending in .yaml is
      an architecture file (recipes/models/), run with seeded random weights.

      With --backend ray each --device is measured on itself instead of modelled: a job per
      device runs this command on the Ray node that offers the resource adascale-device:NAME
      (ray start ... --resources '{"adascale-device:NAME": 1}'), one job per device at a time,
      writes that device's measured table to --output-dir/ops-lut.NAME.json and one summary
      table is printed (docs/scale.md). Every node must see the model and --output-dir at the
      same paths. --as-device NAME is what such a job runs with: this host is device NAME.

      Examples:
        adascale profile --model model.h5
        adascale profile --model model.h5 --device raspberry-pi-4 \\
          --context cpu=0.5,thermal=fair
        adascale profile --model recipes/models/fmnist_cnn.yaml \\
          --output ops-lut.json --json
        adascale profile --model model.h5 --backend ray --ray-address 10.0.0.2:6379 \\
          --device raspberry-pi-4 --device jetson-nano-cpu --output-dir profiles
      """))

  @OptionGroup var modelOptions: ModelOptions

  @Option(
    help:
      "Device name in recipes/devices (or a device .yaml file); repeat for several. With --backend ray: a device a node of the cluster offers, measured there."
  )
  var device: [String] = []

  @Option(
    help: ArgumentHelp(
      "Where --device is profiled: local (modelled from this host, the default) or ray (measured on the node that is the device).",
      valueName: "local|ray"))
  var backend = "local"

  @Option(
    help: ArgumentHelp(
      "The Ray cluster's address for --backend ray (default $ADASCALE_RAY_ADDRESS).", valueName: "host:port"
    ))
  var rayAddress: String?

  @Option(help: "With --backend ray: the directory each device's table is written to (ops-lut.NAME.json).")
  var outputDir = "profiles"

  @Option(
    help:
      "This host is the device NAME (a node of a device farm): its measured rows and report carry that name, and its energy uses NAME's constants when recipes/devices has it."
  )
  var asDevice: String?

  @Option(help: "Run-time context, e.g. cpu=0.5,freq=0.8,mem=512,battery=0.3,thermal=fair.")
  var context: String?

  @Option(help: "Write the per-op lookup table (ops-lut.json) here.")
  var output: String?

  @Option(help: "Latency cache directory (default: $XDG_CACHE_HOME/adascale/profile).")
  var cache: String?

  @Flag(help: "Measure everything afresh and do not read or write the cache.")
  var noCache = false

  @Option(help: "Timed milliseconds per layer signature.")
  var budgetMs: Double = 100

  @Option(help: "OpenBLAS threads and workers while timing.")
  var threads: Int = 1

  @Option(help: "Batch size for the second memory figure.")
  var batch: Int = 32

  @Flag(help: "Also time every node inside the running graph (a column next to its table time).")
  var inGraph = false

  @Flag(help: "Print JSON instead of a table.")
  var json = false

  func validate() throws {
    if budgetMs <= 0 { throw ValidationError("--budget-ms must be positive") }
    if threads < 1 { throw ValidationError("--threads must be at least 1") }
    if batch < 1 { throw ValidationError("--batch must be at least 1") }
    if !["local", "ray"].contains(backend) {
      throw ValidationError("--backend must be local or ray; found '\(backend)'")
    }
    if let rayAddress, !Recipe.SearchSpec.isRayAddress(rayAddress) {
      throw ValidationError("--ray-address: expected host:port (e.g. 127.0.0.1:6379), found '\(rayAddress)'")
    }
    if backend == "ray" {
      if device.isEmpty { throw ValidationError("--backend ray needs at least one --device to measure") }
      if output != nil {
        throw ValidationError("--backend ray writes one table per device: use --output-dir")
      }
      if asDevice != nil {
        throw ValidationError("--as-device is for one host; --backend ray sets it per device")
      }
      if let twice = Dictionary(grouping: device, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
        throw ValidationError("--device \(twice) is given twice")
      }
    }
  }

  func run() throws {
    if backend == "ray" { return try ProfileOnRay(command: self).run() }
    let (graph, parameters, bits) = try loadModel()
    let contextValue = try context.map { (s) throws(AdaError) in try DeviceContext.parse(s) }
    let devices = try device.map { (d) throws(AdaError) in try DeviceCatalog.resolve(d) }
    let hostDevice =
      asDevice.map(Self.hostProfile(as:)) ?? devices.first { $0.measured }
      ?? (try? DeviceCatalog.resolve("host"))
    let probe = ProbeConfig(budgetMs: budgetMs, threads: threads)
    var options = ProfileOptions(
      probe: probe, cacheDirectory: noCache ? nil : (cache ?? LatencyCache.defaultDirectory),
      version: AdaScaleVersion.string, bits: bits)
    options.measureInGraph = inGraph
    options.device = asDevice
    let progress: (String) -> Void = { Output.status("profile: \($0)") }
    let profile = try Profiler.profile(
      graph: graph, parameters: parameters, options: options, progress: progress)
    let report = try ProfileReport(
      profile: profile, hostDevice: hostDevice, devices: devices,
      context: contextValue ?? DeviceContext(), batch: batch, bits: bits, probe: probe)
    if let output { try report.table.save(to: output) }
    if json { return try Output.printJSON(report) }
    print(ProfileTable.render(report))
  }

  /// This host as the device `name`: measured, with `name`'s power constants when the catalog
  /// has it (else host.yaml's, else none).
  static func hostProfile(as name: String) -> DeviceProfile {
    var profile =
      (try? DeviceCatalog.resolve(name)) ?? (try? DeviceCatalog.resolve("host"))
      ?? DeviceProfile(
        name: name, measured: true, cores: 1, clockGHz: nil, peakGflopsPerCore: nil, memoryBandwidthGBs: nil,
        idlePowerW: 0, activePowerPerCoreW: 0, energyPerBytePJ: 0)
    profile.name = name
    profile.measured = true
    return profile
  }

  /// A Keras model (with the bit width of each layer `adascale apply --op quantize` stored in
  /// it, keyed by node), or an architecture YAML with seeded random weights.
  func loadModel() throws(AdaError) -> (Graph, Parameters, bits: [String: Int]) {
    let path = modelOptions.model
    if path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
      let graph = try ArchitectureFile.load(path: path)
      return (graph, try Parameters.initialize(for: graph, seed: 5), [:])
    }
    let (model, quantized) = try IsolatedDecode.loadModelWithQuantized(path, config: modelOptions.config)
    return (model.graph, model.parameters, quantized.bitsByNode)
  }
}

/// Human-readable rendering of a `ProfileReport`. Latencies are in µs when the model takes
/// under a millisecond, else in ms.
enum ProfileTable {
  static func render(_ r: ProfileReport) -> String {
    var out: [String] = []
    let fp = r.fingerprint
    let micro = r.total.predictedMs < 1
    let unit = micro ? "µs" : "ms"
    func t(_ ms: Double) -> String { micro ? fmt(ms * 1e3, 2) : fmt(ms, 3) }
    func tsd(_ s: LatencyStats) -> String { "\(t(s.meanMs)) ± \(t(s.sdMs))" }
    out.append(
      "model \(r.model) on \(fp.cpuModel) (OpenBLAS \(fp.blasCore), \(fp.threads) thread"
        + "\(fp.threads == 1 ? "" : "s")), batch 1, \(fmt(r.probe.budgetMs, 0)) ms per op; "
        + "cache: \(r.cache.hits) hit\(r.cache.hits == 1 ? "" : "s"), \(r.cache.measured) timed now")
    let inGraph = r.total.inGraphMs != nil
    out.append(
      Output.table(
        header: ["layer", "kind", "latency \(unit)", "share", "MACs", "GFLOP/s", "bytes"]
          + (inGraph ? ["in-graph \(unit)"] : []),
        rows: r.layers.map {
          [
            $0.name, $0.kind, "\(t($0.meanMs)) ± \(t($0.sdMs))", "\(fmt($0.share * 100, 1))%",
            Output.grouped($0.macs), fmt($0.gflops, 2), Output.grouped($0.bytes),
          ] + (inGraph ? [t($0.inGraphMs ?? 0)] : [])
        }))
    let total = r.total
    var line =
      "total: predicted \(t(total.predictedMs)) ± \(t(total.predictedSdMs)) \(unit) "
      + "(layers \(t(total.opsMs)) + context \(t(total.overheadMs)))"
    if let m = total.measuredMs, let e = total.relativeError {
      line +=
        ", measured \(t(m)) ± \(t(total.measuredSdMs ?? 0)) \(unit), error \(fmt(e * 100, 1))%"
    }
    if let g = total.inGraphMs { line += "; in-graph total \(t(g)) \(unit)" }
    out.append(line)
    let m = r.memory
    out.append(
      "memory: weights \(Output.grouped(m.batch1.weightBytes)) B; peak working set "
        + "\(Output.grouped(m.batch1.peakWorkingBytes)) B at batch 1, "
        + "\(Output.grouped(m.batchN.peakWorkingBytes)) B at batch \(m.batchN.batch)")
    out.append("context: \(r.context)")
    out.append(
      Output.table(
        header: [
          "device", "source", "latency \(unit)", "energy mJ", "power W", "peak memory", "feasible",
        ],
        rows: r.devices.map {
          [
            $0.device, $0.source, tsd($0.latency), $0.energyMJ.map { fmt($0, 4) } ?? "-",
            $0.averagePowerW.map { fmt($0, 2) } ?? "-", Output.grouped($0.peakMemoryBytes) + " B",
            $0.feasible ? "yes" : "no",
          ]
        }))
    out.append("energy is modelled from device power constants (recipes/devices); see docs/profiler.md")
    return out.joined(separator: "\n")
  }

  static func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
}
