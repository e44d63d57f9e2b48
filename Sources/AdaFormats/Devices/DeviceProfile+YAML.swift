import AdaProfile
import AdaTensor

/// Device files (`recipes/devices/*.yaml`, docs/profiler.md): YAML in, `DeviceProfile` out.
extension DeviceProfile {
  public static let keys: Set<String> = [
    "name", "description", "measured", "cores", "clock_ghz", "peak_gflops_per_core",
    "memory_bandwidth_gbs", "idle_power_w", "active_power_per_core_w", "energy_per_byte_pj",
    "memory_mb", "battery_wh",
  ]

  public static func load(path: String) throws(AdaError) -> DeviceProfile {
    try parse(YAMLValue.load(path: path))
  }

  /// Decodes a device file; errors name the file, line and key, with expected vs found.
  public static func parse(_ doc: YAMLValue) throws(AdaError) -> DeviceProfile {
    try doc.checkKeys(keys)
    let measured = try doc["measured"].bool(default: false)
    func positive(_ key: String) throws(AdaError) -> Double {
      let v = try doc[key].double()
      guard v > 0 else { throw doc[key].error("expected a positive number, found \(v)") }
      return v
    }
    func optionalPositive(_ key: String) throws(AdaError) -> Double? {
      doc[key].exists ? try positive(key) : nil
    }
    func nonNegative(_ key: String) throws(AdaError) -> Double {
      let v = try doc[key].double()
      guard v >= 0 else { throw doc[key].error("expected a number ≥ 0, found \(v)") }
      return v
    }
    let cores = try doc["cores"].int()
    guard cores >= 1 else { throw doc["cores"].error("expected at least 1 core, found \(cores)") }
    let profile = DeviceProfile(
      name: try doc["name"].string(), description: try doc["description"].string(default: ""),
      measured: measured, cores: cores, clockGHz: try optionalPositive("clock_ghz"),
      peakGflopsPerCore: measured
        ? try optionalPositive("peak_gflops_per_core")
        : try positive("peak_gflops_per_core"),
      memoryBandwidthGBs: measured
        ? try optionalPositive("memory_bandwidth_gbs")
        : try positive("memory_bandwidth_gbs"),
      idlePowerW: try nonNegative("idle_power_w"),
      activePowerPerCoreW: try nonNegative("active_power_per_core_w"),
      energyPerBytePJ: try nonNegative("energy_per_byte_pj"),
      memoryMB: try optionalPositive("memory_mb"), batteryWh: try optionalPositive("battery_wh"),
      file: doc.file)
    if !measured && profile.clockGHz == nil {
      throw doc["clock_ghz"].error("a modelled device needs clock_ghz", kind: .missing)
    }
    return profile
  }
}
