import AdaTensor

/// Energy of one inference from a device's power constants (no RAPL or power meter here: energy
/// is modelled, and reports say so).
///
/// With `n` busy cores, effective clock `s` (frequency scale × thermal factor), CPU time
/// `t_cpu` (nominal latency / s), wall time `t_wall = t_cpu / cpuShare` and `bytes` moved:
///
///     E = P_idle · t_wall + n · P_core · s³ · t_cpu + e_byte · bytes  (+ P_idle · (T − t_wall))
///
/// At full clock and full CPU share this is the design's `E = P_active · t + e_byte · bytes`
/// with `P_active = P_idle + n · P_core`. Dynamic power goes as f·V² and DVFS lowers V with f,
/// hence `s³` per core (so per-inference core energy goes as s²); idle power does not scale.
/// The bracketed idle term is added when a period `T` (e.g. one inference per video frame) is
/// given and covers the rest of the period.
public enum EnergyModel {
  public static func energyJ(
    device: DeviceProfile, cpuSeconds: Double, wallSeconds: Double, bytes: Int, busyCores: Int,
    clock s: Double, periodSeconds: Double? = nil
  ) -> Double {
    let n = Double(min(busyCores, device.cores))
    var e = device.idlePowerW * wallSeconds
    e += n * device.activePowerPerCoreW * s * s * s * cpuSeconds
    e += device.energyPerBytePJ * 1e-12 * Double(bytes)
    if let period = periodSeconds { e += device.idlePowerW * max(period - wallSeconds, 0) }
    return e
  }
}

/// A model on one device under one context: latency, energy, memory feasibility.
public struct DeviceEstimate: Codable, Hashable, Sendable {
  public var device: String
  /// `measured` for the host, `modelled` otherwise.
  public var source: String
  /// Batch-1 wall latency under the context.
  public var latency: LatencyStats
  /// CPU time of one inference under the context (latency × cpuShare).
  public var cpuMs: Double
  public var energyMJ: Double?
  public var averagePowerW: Double?
  public var bytesMoved: Int
  public var peakMemoryBytes: Int
  /// The context's memory, else the device's installed memory, else unknown.
  public var memoryLimitMB: Double?
  public var feasible: Bool
  /// Inferences the remaining battery pays for (devices with a battery, context with a level).
  public var inferencesOnBattery: Double?

  /// Applies `context` to a device's nominal latency and derives energy and feasibility.
  public init(
    model: DeviceModel, nominal: LatencyStats, bytesMoved: Int, peakMemoryBytes: Int,
    context: DeviceContext, periodSeconds: Double? = nil
  ) {
    let s = context.effectiveClock
    let cpu = nominal.scaled(by: 1 / s)
    let wall = cpu.scaled(by: 1 / context.cpuShare)
    let d = model.device
    device = d.name
    source = d.measured ? "measured" : "modelled"
    latency = wall
    cpuMs = cpu.meanMs
    let e = EnergyModel.energyJ(
      device: d, cpuSeconds: cpu.meanMs / 1e3, wallSeconds: wall.meanMs / 1e3, bytes: bytesMoved,
      busyCores: model.threads, clock: s, periodSeconds: periodSeconds)
    energyMJ = e * 1e3
    averagePowerW = e / (wall.meanMs / 1e3)
    self.bytesMoved = bytesMoved
    self.peakMemoryBytes = peakMemoryBytes
    memoryLimitMB = context.memoryAvailableMB ?? d.memoryMB
    feasible = memoryLimitMB.map { Double(peakMemoryBytes) <= $0 * 1_048_576 } ?? true
    if let wh = d.batteryWh, let level = context.batteryLevel, e > 0 {
      inferencesOnBattery = level * wh * 3600 / e
    }
  }

  enum CodingKeys: String, CodingKey {
    case device, source, latency, feasible
    case cpuMs = "cpu_ms"
    case energyMJ = "energy_mj"
    case averagePowerW = "average_power_w"
    case bytesMoved = "bytes_moved"
    case peakMemoryBytes = "peak_memory_bytes"
    case memoryLimitMB = "memory_limit_mb"
    case inferencesOnBattery = "inferences_on_battery"
  }
}
