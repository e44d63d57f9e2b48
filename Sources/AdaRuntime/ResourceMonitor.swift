import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Samples the resources the adaptation loop reacts to, from Linux's `/proc` and `/sys`
/// (docs/runtime.md, "Resource monitor"):
///
/// | field | source |
/// |---|---|
/// | CPU busy share, own share | `/proc/stat` (`cpu` line), `/proc/self/stat` (utime + stime), deltas between samples |
/// | runnable threads | `procs_running` of `/proc/stat`, averaged over the samples of a window |
/// | load average | `/proc/loadavg` |
/// | MemAvailable | `/proc/meminfo` |
/// | cgroup memory | v2 `memory.max`/`memory.current`; v1 `memory.limit_in_bytes`/`memory.usage_in_bytes` |
/// | cgroup CPU | v2 `cpu.max`; v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us` |
/// | frequency | `/sys/devices/system/cpu/cpu*/cpufreq/scaling_cur_freq ÷ cpuinfo_max_freq` |
/// | battery | `/sys/class/power_supply/*/{type,capacity,status}` |
/// | temperature | `/sys/class/thermal/thermal_zone*/temp` (m°C) |
///
/// Any missing or unreadable source leaves its field nil. Which files exist is found once, in
/// `init`; `sample()` only reads them. CPU shares need two readings at least `cpuWindow` seconds
/// apart: until then (and between such readings) the previous share is repeated.
///
/// The filesystem root and the clock are injectable, so tests run on a fake tree:
///
///     var monitor = ResourceMonitor(root: fakeRoot, clock: { fakeTime })
///     let context = monitor.sample().deviceContext(threads: 1)
public struct ResourceMonitor: Sendable {
  /// Prefix of every path read (`/` on a real system).
  public let root: String
  /// Seconds on a monotonic clock.
  public let clock: @Sendable () -> Double
  /// Minimum seconds between the two `/proc/stat` readings a CPU share is computed from.
  public var cpuWindow: Double
  let sources: Sources
  private var reference: (time: Double, cpu: CPUTimes, selfTicks: Int?)?
  private var lastShares: (busy: Double, own: Double?, runnable: Double?)?
  /// `procs_running` readings since the reference reading.
  private var runnableSum = 0
  private var runnableCount = 0

  public init(
    root: String = "/", clock: @escaping @Sendable () -> Double = monotonicSeconds, cpuWindow: Double = 0.25
  ) {
    self.root = root
    self.clock = clock
    self.cpuWindow = cpuWindow
    sources = Sources(root: root)
    if let cpu = sources.readCPUTimes() {
      reference = (clock(), cpu, sources.readSelfTicks())
    }
  }

  /// Reads every known source once.
  public mutating func sample() -> ResourceSnapshot {
    let now = clock()
    var s = ResourceSnapshot(time: now)
    updateCPUShares(now)
    if let shares = lastShares {
      s.cpuBusyShare = shares.busy
      s.selfBusyShare = shares.own
      s.runnable = shares.runnable
    }
    s.cpus = sources.cpus
    s.cgroupCPULimit = sources.readCgroupCPULimit()
    s.loadAverage1 = sources.read(sources.loadavg).flatMap { Parse.loadAverage($0) }
    s.memAvailableBytes = sources.read(sources.meminfo).flatMap { Parse.memAvailable($0) }
    let (limit, usage) = sources.readCgroupMemory()
    s.cgroupMemoryLimitBytes = limit
    s.cgroupMemoryUsageBytes = usage
    s.frequencyScale = sources.readFrequencyScale()
    if let battery = sources.battery {
      s.batteryLevel = sources.read(battery + "/capacity").flatMap { Double(Parse.trimmed($0)) }.map {
        $0 / 100
      }
      s.batteryStatus = sources.read(battery + "/status").map(Parse.trimmed)
    }
    s.temperatureC = sources.thermalZones.compactMap { zone in
      sources.read(zone).flatMap { Double(Parse.trimmed($0)) }.map { $0 / 1000 }
    }.max()
    return s
  }

  /// Recomputes busy and own shares when `cpuWindow` has passed since the reference reading.
  private mutating func updateCPUShares(_ now: Double) {
    guard let ref = reference else {
      if let cpu = sources.readCPUTimes() { reference = (now, cpu, sources.readSelfTicks()) }
      return
    }
    guard let text = sources.read(sources.stat) else { return }
    if let r = Parse.procsRunning(text) {
      runnableSum += r
      runnableCount += 1
    }
    guard now - ref.time >= cpuWindow, let cpu = Parse.cpuTimes(text) else { return }
    let total = cpu.total - ref.cpu.total
    guard total > 0 else { return }
    let busy = Double(max(cpu.busy - ref.cpu.busy, 0)) / Double(total)
    let selfTicks = sources.readSelfTicks()
    var own: Double?
    if let a = ref.selfTicks, let b = selfTicks { own = min(Double(max(b - a, 0)) / Double(total), 1) }
    let runnable = runnableCount > 0 ? Double(runnableSum) / Double(runnableCount) : nil
    lastShares = (min(busy, 1), own, runnable)
    reference = (now, cpu, selfTicks)
    runnableSum = 0
    runnableCount = 0
  }

  /// `CLOCK_MONOTONIC` in seconds.
  public static let monotonicSeconds: @Sendable () -> Double = {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
  }
}

/// Cumulative `/proc/stat` jiffies of the `cpu` line.
struct CPUTimes: Sendable, Equatable {
  /// user + nice + system + idle + iowait + irq + softirq + steal.
  var total: Int
  /// total − idle − iowait.
  var busy: Int
}
