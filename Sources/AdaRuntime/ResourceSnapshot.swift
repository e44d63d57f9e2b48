import AdaProfile

/// What `ResourceMonitor` saw in one sample. Every field is optional: nil means the source was
/// missing or unreadable on this machine ("unknown"), never an error.
public struct ResourceSnapshot: Codable, Hashable, Sendable {
  /// Monotonic seconds (the monitor's clock) when the sample was taken.
  public var time: Double
  /// Online CPUs (`cpuN` lines of `/proc/stat`).
  public var cpus: Int?
  /// CPU limit of this process's cgroup, in cores (`cpu.max` or `cpu.cfs_quota_us / period`).
  public var cgroupCPULimit: Double?
  /// Fraction of all CPU time that was busy (not idle/iowait) since the previous sample.
  public var cpuBusyShare: Double?
  /// Fraction of all CPU time this process used since the previous sample (`/proc/self/stat`).
  public var selfBusyShare: Double?
  /// Mean `procs_running` over the last CPU window: runnable threads, this sampler included.
  public var runnable: Double?
  /// 1-minute load average.
  public var loadAverage1: Double?
  /// `MemAvailable` of `/proc/meminfo`, bytes.
  public var memAvailableBytes: Int?
  /// cgroup memory limit (v2 `memory.max`, v1 `memory.limit_in_bytes`), bytes; nil when unlimited.
  public var cgroupMemoryLimitBytes: Int?
  /// cgroup memory usage (v2 `memory.current`, v1 `memory.usage_in_bytes`), bytes.
  public var cgroupMemoryUsageBytes: Int?
  /// Mean over CPUs of `scaling_cur_freq / cpuinfo_max_freq`.
  public var frequencyScale: Double?
  /// Battery charge, 0–1 (`capacity / 100` of the first supply whose `type` is `Battery`).
  public var batteryLevel: Double?
  /// Battery `status`: `Charging`, `Discharging`, `Full`, `Not charging`, `Unknown`.
  public var batteryStatus: String?
  /// Hottest thermal zone, °C.
  public var temperatureC: Double?

  public init(time: Double) { self.time = time }

  /// Memory this process may still allocate: min(MemAvailable, cgroup limit − usage), bytes.
  public var memoryAvailableBytes: Int? {
    var limits: [Int] = []
    if let m = memAvailableBytes { limits.append(m) }
    if let l = cgroupMemoryLimitBytes, let u = cgroupMemoryUsageBytes { limits.append(max(l - u, 0)) }
    return limits.min()
  }

  /// True when the battery is charging or full: energy is not scarce.
  public var onMains: Bool { batteryStatus == "Charging" || batteryStatus == "Full" }

  /// The context the selector plans with (docs/runtime.md, "From a sample to a context"):
  ///
  /// - `cpuShare`: fair share of the cores for our `threads` compute threads when other work
  ///   keeps `o` threads busy: `min(1, cores / (o + threads))`, with `cores = min(cpus, cgroup
  ///   limit)`, floored at 0.05. `o` is the larger of the busy cores of other work,
  ///   `(busy − self) · cpus`, and the other runnable threads, `runnable − 1` (busy time saturates
  ///   at all cores; the runnable count still sees five threads queueing for two cores). On one
  ///   core with one thread this is `1 / (1 + o)`; it is why "1 − busy share of other work" is not
  ///   used as is: that rule says 0 when a single hog runs beside us, while the scheduler gives
  ///   us half. Unknown → 1.
  /// - `frequencyScale`: the cpufreq ratio (unknown → 1).
  /// - `memoryAvailableMB`: `memoryAvailableBytes` in MiB (unknown → nil, no limit).
  /// - `batteryLevel`: the level when discharging; nil on mains or unknown (no energy pressure).
  /// - `thermal`: `thresholds.state(temperatureC)` (unknown → nominal).
  public func deviceContext(
    threads: Int, thresholds: ThermalThresholds = ThermalThresholds()
  ) -> DeviceContext {
    var c = DeviceContext()
    if let busy = cpuBusyShare, let cpus {
      let cores = min(Double(cpus), cgroupCPULimit ?? Double(cpus))
      let busyOthers = max(busy - (selfBusyShare ?? 0), 0) * Double(cpus)
      let others = max(busyOthers, runnable.map { max($0 - 1, 0) } ?? 0)
      c.cpuShare = min(1, max(0.05, cores / (others + Double(max(threads, 1)))))
    } else if let limit = cgroupCPULimit {
      c.cpuShare = min(1, max(0.05, limit / Double(max(threads, 1))))
    }
    if let f = frequencyScale { c.frequencyScale = min(1, max(0.05, f)) }
    if let m = memoryAvailableBytes { c.memoryAvailableMB = Double(m) / 1_048_576 }
    if let b = batteryLevel, !onMains { c.batteryLevel = min(1, max(0, b)) }
    if let t = temperatureC { c.thermal = thresholds.state(t) }
    return c
  }

  enum CodingKeys: String, CodingKey {
    case time, cpus
    case cgroupCPULimit = "cgroup_cpu_limit"
    case cpuBusyShare = "cpu_busy_share"
    case selfBusyShare = "self_busy_share"
    case runnable
    case loadAverage1 = "load_average_1"
    case memAvailableBytes = "mem_available_bytes"
    case cgroupMemoryLimitBytes = "cgroup_memory_limit_bytes"
    case cgroupMemoryUsageBytes = "cgroup_memory_usage_bytes"
    case frequencyScale = "frequency_scale"
    case batteryLevel = "battery_level"
    case batteryStatus = "battery_status"
    case temperatureC = "temperature_c"
  }
}

/// Temperatures (°C, hottest zone) at which the thermal state steps up. Linux exposes no
/// portable throttling state, so these are **assumed** values typical of mobile SoCs and laptop
/// CPUs (docs/runtime.md): below 70 nominal, 70–80 fair, 80–90 serious, 90 and above critical.
public struct ThermalThresholds: Codable, Hashable, Sendable {
  public var fairC: Double
  public var seriousC: Double
  public var criticalC: Double

  public init(fairC: Double = 70, seriousC: Double = 80, criticalC: Double = 90) {
    precondition(fairC <= seriousC && seriousC <= criticalC, "thermal thresholds must increase")
    self.fairC = fairC
    self.seriousC = seriousC
    self.criticalC = criticalC
  }

  public func state(_ celsius: Double) -> ThermalState {
    if celsius >= criticalC { return .critical }
    if celsius >= seriousC { return .serious }
    if celsius >= fairC { return .fair }
    return .nominal
  }
}
