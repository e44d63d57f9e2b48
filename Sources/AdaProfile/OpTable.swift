import AdaCore
import AdaIO
import AdaTensor
import Foundation

/// The per-op lookup table, `ops-lut.json`: one row per (op signature, device) with
/// count/mean/variance of the op's batch-1 latency, its work, and whether the row was
/// **measured** on this host or **modelled** from host rows (`DeviceModel`). Rows are
/// context-free; contexts are applied when estimating (`DeviceEstimate`).
public struct OpTable: Codable, Sendable {
  public struct Row: Codable, Hashable, Sendable {
    public var key: String
    public var device: String
    /// `measured` or `modelled`.
    public var source: String
    public var count: Int
    public var meanMs: Double
    public var varianceMs2: Double
    public var macs: Int
    public var flops: Int
    public var bytes: Int
    public var bound: OpBound
    /// Host time × factor = this row's time (1 for measured rows).
    public var factor: Double

    enum CodingKeys: String, CodingKey {
      case key, device, source, count, macs, flops, bytes, bound, factor
      case meanMs = "mean_ms"
      case varianceMs2 = "var_ms2"
    }
  }

  /// A device the table covers and the roofline it was modelled with.
  public struct Device: Codable, Hashable, Sendable {
    public var name: String
    public var source: String
    public var peakGflops: Double
    public var bandwidthGBs: Double
    public var ridge: Double
    /// Scales the dispatch overhead (host clock / device clock).
    public var clockRatio: Double
    public var file: String?

    enum CodingKeys: String, CodingKey {
      case name, source, ridge, file
      case peakGflops = "peak_gflops"
      case bandwidthGBs = "bandwidth_gbs"
      case clockRatio = "clock_ratio"
    }
  }

  public var format = "adascale-ops-lut"
  public var version = 1
  public var fingerprint: MachineFingerprint
  public var host: HostMeasurements
  /// Host dispatch overhead per node (scale by a device's `clock_ratio`).
  public var overhead: DispatchOverhead
  public var probe: ProbeConfig
  public var devices: [Device]
  public var rows: [Row]

  /// Rows for `ops` on the host (measured) and on each modelled device, one per unique key.
  public init(profile: ModelProfile, models: [DeviceModel], probe: ProbeConfig) {
    fingerprint = profile.fingerprint
    host = profile.host
    overhead = profile.overhead
    self.probe = probe
    devices = models.map {
      Device(
        name: $0.device.name, source: $0.isHost ? "measured" : "modelled",
        peakGflops: $0.peakGflops, bandwidthGBs: $0.bandwidthGBs, ridge: $0.ridge,
        clockRatio: $0.clockRatio, file: $0.device.file)
    }
    var rows: [Row] = []
    for model in models {
      var seen = Set<String>()
      for (op, term) in zip(profile.ops, profile.terms) where seen.insert(op.signature.key).inserted {
        let s = model.opLatency(host: term.op, work: op.work)
        rows.append(
          Row(
            key: op.signature.key, device: model.device.name,
            source: model.isHost ? "measured" : "modelled", count: s.count, meanMs: s.meanMs,
            varianceMs2: s.varianceMs2, macs: op.work.macs, flops: op.work.flops,
            bytes: op.work.bytesMoved, bound: model.bound(op.work), factor: model.factor(op.work)))
      }
    }
    self.rows = rows
  }

  public func row(key: String, device: String) -> Row? {
    rows.first { $0.key == key && $0.device == device }
  }

  /// Writes the table as pretty JSON, atomically.
  public func save(to path: String) throws(AdaError) {
    let data = try LatencyCache.encode(self, path: path)
    try AtomicFile.write(data, to: path, what: "the lookup table")
  }

  public static func load(path: String) throws(AdaError) -> OpTable {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw AdaError(.fileNotFound, file: path, "file not found or not readable")
    }
    do {
      return try JSONDecoder().decode(OpTable.self, from: data)
    } catch {
      throw AdaError(.badFormat, file: path, "not an ops-lut.json table: \(error)")
    }
  }
}
