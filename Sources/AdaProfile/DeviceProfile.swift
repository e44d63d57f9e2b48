import AdaTensor

/// A device the profiler can estimate for: its roofline (per-core peak FLOP/s, sustained memory
/// bandwidth), clock, and power constants. Read from `recipes/devices/<name>.yaml`, where every
/// constant carries its public source in a comment. `host` is `measured`: its peak and bandwidth
/// come from `HostProbe`, and the file supplies only power constants.
///
///     name: raspberry-pi-4
///     measured: false
///     cores: 4
///     clock_ghz: 1.5
///     peak_gflops_per_core: 12.0
///     memory_bandwidth_gbs: 5.5
///     idle_power_w: 2.7
///     active_power_per_core_w: 0.9
///     energy_per_byte_pj: 160
///     memory_mb: 4096
public struct DeviceProfile: Codable, Hashable, Sendable {
  public var name: String
  public var description: String
  /// True for the host (timings measured); false for modelled devices.
  public var measured: Bool
  public var cores: Int
  public var clockGHz: Double?
  /// Single-precision peak of one core, GFLOP/s (nil for the host: measured instead).
  public var peakGflopsPerCore: Double?
  /// Sustained single-thread memory bandwidth, GB/s (nil for the host: measured instead).
  public var memoryBandwidthGBs: Double?
  /// Whole-device power when idle, W.
  public var idlePowerW: Double
  /// Extra power per busy core at full clock, W.
  public var activePowerPerCoreW: Double
  /// DRAM energy per byte moved, pJ.
  public var energyPerBytePJ: Double
  /// Installed memory, MB (used as the memory limit when the context gives none).
  public var memoryMB: Double?
  /// Battery capacity, Wh (phones); nil for mains-powered boards.
  public var batteryWh: Double?
  /// Where the profile was read from.
  public var file: String?

  public init(
    name: String, description: String = "", measured: Bool, cores: Int, clockGHz: Double?,
    peakGflopsPerCore: Double?, memoryBandwidthGBs: Double?, idlePowerW: Double,
    activePowerPerCoreW: Double, energyPerBytePJ: Double, memoryMB: Double? = nil,
    batteryWh: Double? = nil, file: String? = nil
  ) {
    self.name = name
    self.description = description
    self.measured = measured
    self.cores = cores
    self.clockGHz = clockGHz
    self.peakGflopsPerCore = peakGflopsPerCore
    self.memoryBandwidthGBs = memoryBandwidthGBs
    self.idlePowerW = idlePowerW
    self.activePowerPerCoreW = activePowerPerCoreW
    self.energyPerBytePJ = energyPerBytePJ
    self.memoryMB = memoryMB
    self.batteryWh = batteryWh
    self.file = file
  }

  /// Whole-device power with `busyCores` cores running at full clock: idle + per-core extra.
  public func activePowerW(busyCores: Int) -> Double {
    idlePowerW + activePowerPerCoreW * Double(min(busyCores, cores))
  }

  enum CodingKeys: String, CodingKey {
    case name, description, measured, cores, file
    case clockGHz = "clock_ghz"
    case peakGflopsPerCore = "peak_gflops_per_core"
    case memoryBandwidthGBs = "memory_bandwidth_gbs"
    case idlePowerW = "idle_power_w"
    case activePowerPerCoreW = "active_power_per_core_w"
    case energyPerBytePJ = "energy_per_byte_pj"
    case memoryMB = "memory_mb"
    case batteryWh = "battery_wh"
  }
}
