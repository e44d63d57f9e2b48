import AdaNN
import AdaTensor

/// Everything `adascale profile` reports: per-layer latency on the host, the predicted and
/// measured totals, memory, and per-device estimates under a context. `table` is the
/// `ops-lut.json` for the same run (written with `--output`, not part of the JSON report).
public struct ProfileReport: Encodable, Sendable {
  public struct Layer: Codable, Sendable {
    public var name: String
    public var kind: String
    public var key: String
    public var count: Int
    public var meanMs: Double
    public var sdMs: Double
    /// Context terms attributed to this node: dispatch and weight re-reads (`DispatchOverhead`;
    /// modelled, not measured per node).
    public var overheadMs: Double
    /// (mean + overhead) / predicted total.
    public var share: Double
    public var macs: Int
    public var flops: Int
    public var gflops: Double
    public var bytes: Int
    /// The node's time inside `Executor.predict` (`InGraphTiming`), when asked for.
    public var inGraphMs: Double?

    enum CodingKeys: String, CodingKey {
      case name, kind, key, count, share, macs, flops, gflops, bytes
      case meanMs = "mean_ms"
      case sdMs = "sd_ms"
      case overheadMs = "overhead_ms"
      case inGraphMs = "in_graph_ms"
    }
  }

  public struct Total: Codable, Sendable {
    /// Sum of op means plus dispatch overhead.
    public var predictedMs: Double
    public var predictedSdMs: Double
    /// Sum of op means alone.
    public var opsMs: Double
    public var overheadMs: Double
    /// `Executor.predict` end to end, batch 1, same run (or cached with the ops).
    public var measuredMs: Double?
    public var measuredSdMs: Double?
    /// (predicted − measured) / measured.
    public var relativeError: Double?
    public var macs: Int
    public var params: Int
    /// Median total of the in-graph timing runs, when asked for.
    public var inGraphMs: Double?

    enum CodingKeys: String, CodingKey {
      case macs, params
      case inGraphMs = "in_graph_ms"
      case predictedMs = "predicted_ms"
      case predictedSdMs = "predicted_sd_ms"
      case opsMs = "ops_ms"
      case overheadMs = "overhead_ms"
      case measuredMs = "measured_ms"
      case measuredSdMs = "measured_sd_ms"
      case relativeError = "relative_error"
    }
  }

  public struct Memory: Codable, Sendable {
    public var batch1: MemoryEstimate
    public var batchN: MemoryEstimate

    enum CodingKeys: String, CodingKey {
      case batch1 = "batch_1"
      case batchN = "batch_n"
    }
  }

  public struct CacheUse: Codable, Sendable {
    public var hits: Int
    public var measured: Int
    public var path: String?
  }

  public var model: String
  public var fingerprint: MachineFingerprint
  public var host: HostMeasurements
  public var overhead: DispatchOverhead
  public var probe: ProbeConfig
  public var cache: CacheUse
  public var layers: [Layer]
  public var total: Total
  public var memory: Memory
  public var context: DeviceContext
  public var devices: [DeviceEstimate]
  public var table: OpTable

  /// Builds the report. The host row always comes first (energy from `hostDevice`, the
  /// `host.yaml` profile, when given); `devices` are modelled (a measured profile among them is
  /// skipped: the host row covers it).
  public init(
    profile: ModelProfile, hostDevice: DeviceProfile?, devices: [DeviceProfile],
    context: DeviceContext, batch: Int, bits: [String: Int] = [:], probe: ProbeConfig
  ) throws(AdaError) {
    let threads = profile.fingerprint.threads
    let hostProfile =
      hostDevice
      ?? DeviceProfile(
        name: "host", measured: true, cores: threads, clockGHz: profile.host.clockGHz,
        peakGflopsPerCore: nil, memoryBandwidthGBs: nil, idlePowerW: 0, activePowerPerCoreW: 0,
        energyPerBytePJ: 0)
    let models =
      [DeviceModel(device: hostProfile, host: profile.host, threads: threads)]
      + devices.filter { !$0.measured }.map {
        DeviceModel(device: $0, host: profile.host, threads: threads)
      }
    model = profile.graph.name
    fingerprint = profile.fingerprint
    host = profile.host
    overhead = profile.overhead
    self.probe = probe
    cache = CacheUse(hits: profile.cacheHits, measured: profile.measuredNow, path: profile.cachePath)
    let predicted = profile.predicted.meanMs
    layers = zip(profile.ops, profile.terms).map { op, term in
      Layer(
        name: op.node, kind: op.spec.kindName, key: op.signature.key, count: term.op.count,
        meanMs: term.op.meanMs, sdMs: term.op.sdMs, overheadMs: term.overheadMs + term.weightMs,
        share: predicted > 0 ? term.totalMs / predicted : 0, macs: op.work.macs,
        flops: op.work.flops,
        gflops: term.op.meanMs > 0 ? Double(op.work.flops) / (term.op.meanMs * 1e-3) / 1e9 : 0,
        bytes: op.work.bytesMoved)
    }
    let opsMs = profile.terms.reduce(0) { $0 + $1.op.meanMs }
    total = Total(
      predictedMs: predicted, predictedSdMs: profile.predicted.sdMs, opsMs: opsMs,
      overheadMs: predicted - opsMs, measuredMs: profile.measured?.meanMs,
      measuredSdMs: profile.measured?.sdMs, relativeError: profile.relativeError,
      macs: profile.ops.reduce(0) { $0 + $1.work.macs },
      params: profile.ops.reduce(0) { $0 + $1.work.params })
    if let inGraph = profile.inGraph {
      for i in layers.indices { layers[i].inGraphMs = inGraph.nodeMs[i] }
      total.inGraphMs = inGraph.totalMs
    }
    memory = Memory(
      batch1: try MemoryModel.estimate(graph: profile.graph, batch: 1, bits: bits),
      batchN: try MemoryModel.estimate(graph: profile.graph, batch: batch, bits: bits))
    self.context = context
    let bytes = profile.ops.reduce(0) { $0 + $1.work.bytesMoved }
    let peak = memory.batch1.peakBytes
    self.devices = models.map { m in
      var e = DeviceEstimate(
        model: m, nominal: m.modelLatency(ops: profile.ops, terms: profile.terms),
        bytesMoved: bytes, peakMemoryBytes: peak, context: context)
      if hostDevice == nil && m.isHost { (e.energyMJ, e.averagePowerW) = (nil, nil) }
      return e
    }
    table = OpTable(profile: profile, models: models, probe: probe)
  }

  enum CodingKeys: String, CodingKey {
    case model, fingerprint, host, overhead, probe, cache, layers, total, memory, context, devices
  }
}
