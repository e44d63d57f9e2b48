import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension ResourceMonitor {
  /// The files a monitor reads, found once under `root`. A source that does not exist is left
  /// out (nil or empty); reading one that disappears later gives nil.
  struct Sources: Sendable {
    let stat: String
    let selfStat: String
    let loadavg: String
    let meminfo: String
    let cpus: Int?
    /// v2: (`memory.max`, `memory.current`); v1: (`memory.limit_in_bytes`, `memory.usage_in_bytes`).
    let cgroupMemory: (limit: String, usage: String)?
    /// v2: (`cpu.max`, nil); v1: (`cpu.cfs_quota_us`, `cpu.cfs_period_us`).
    let cgroupCPU: (quota: String, period: String?)?
    /// `scaling_cur_freq` files with their CPU's `cpuinfo_max_freq` (read once, kHz).
    let frequencies: [(current: String, maxKHz: Double)]
    /// Directory of the first power supply whose `type` is `Battery`.
    let battery: String?
    let thermalZones: [String]

    init(root: String) {
      func p(_ relative: String) -> String {
        URL(fileURLWithPath: root).appendingPathComponent(relative).path
      }
      let fm = FileManager.default
      stat = p("proc/stat")
      selfStat = p("proc/self/stat")
      loadavg = p("proc/loadavg")
      meminfo = p("proc/meminfo")
      cpus = Sources.read(stat).map(Parse.cpuCount).flatMap { $0 > 0 ? $0 : nil }

      let groups = Sources.read(p("proc/self/cgroup")).map(Parse.cgroups) ?? [:]
      func firstExisting(_ candidates: [String]) -> String? { candidates.first { fm.fileExists(atPath: $0) } }
      func inGroup(_ base: String, _ group: String?, _ file: String) -> [String] {
        var out: [String] = []
        if let g = group, g != "/" { out.append(p(base + g + "/" + file)) }
        out.append(p(base + "/" + file))
        return out
      }
      let v2 = groups[""]
      if let limit = firstExisting(inGroup("sys/fs/cgroup", v2, "memory.max")),
        let usage = firstExisting(inGroup("sys/fs/cgroup", v2, "memory.current"))
      {
        cgroupMemory = (limit, usage)
      } else if let limit = firstExisting(
        inGroup("sys/fs/cgroup/memory", groups["memory"], "memory.limit_in_bytes")),
        let usage = firstExisting(inGroup("sys/fs/cgroup/memory", groups["memory"], "memory.usage_in_bytes"))
      {
        cgroupMemory = (limit, usage)
      } else {
        cgroupMemory = nil
      }
      if let max = firstExisting(inGroup("sys/fs/cgroup", v2, "cpu.max")) {
        cgroupCPU = (max, nil)
      } else {
        let group = groups["cpu"]
        let dirs = ["sys/fs/cgroup/cpu", "sys/fs/cgroup/cpu,cpuacct"]
        let quota = firstExisting(dirs.flatMap { inGroup($0, group, "cpu.cfs_quota_us") })
        let period = quota.map {
          URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("cpu.cfs_period_us")
            .path
        }
        cgroupCPU = quota.map { ($0, period) }
      }

      let cpuDir = p("sys/devices/system/cpu")
      let cpuNames = ((try? fm.contentsOfDirectory(atPath: cpuDir)) ?? []).filter {
        $0.hasPrefix("cpu") && $0.dropFirst(3).allSatisfy(\.isNumber) && $0.count > 3
      }
      frequencies = cpuNames.sorted().compactMap { name in
        let dir = cpuDir + "/" + name + "/cpufreq"
        guard let maxText = Sources.read(dir + "/cpuinfo_max_freq"),
          let maxKHz = Double(Parse.trimmed(maxText)),
          maxKHz > 0, fm.fileExists(atPath: dir + "/scaling_cur_freq")
        else { return nil }
        return (dir + "/scaling_cur_freq", maxKHz)
      }

      let supplyDir = p("sys/class/power_supply")
      battery = ((try? fm.contentsOfDirectory(atPath: supplyDir)) ?? []).sorted().map { supplyDir + "/" + $0 }
        .first { Sources.read($0 + "/type").map(Parse.trimmed) == "Battery" }

      let thermalDir = p("sys/class/thermal")
      thermalZones = ((try? fm.contentsOfDirectory(atPath: thermalDir)) ?? []).filter {
        $0.hasPrefix("thermal_zone")
      }
      .sorted().map { thermalDir + "/" + $0 + "/temp" }.filter { fm.fileExists(atPath: $0) }
    }

    func read(_ path: String) -> String? { Sources.read(path) }

    func readCPUTimes() -> CPUTimes? { read(stat).flatMap(Parse.cpuTimes) }
    func readSelfTicks() -> Int? { read(selfStat).flatMap(Parse.selfTicks) }

    func readCgroupMemory() -> (limit: Int?, usage: Int?) {
      guard let files = cgroupMemory else { return (nil, nil) }
      let limit = read(files.limit).flatMap(Parse.cgroupBytes)
      let usage = read(files.usage).flatMap { Int(Parse.trimmed($0)) }
      return (limit, usage)
    }

    func readCgroupCPULimit() -> Double? {
      guard let files = cgroupCPU, let quotaText = read(files.quota) else { return nil }
      if let periodFile = files.period {
        guard let quota = Double(Parse.trimmed(quotaText)), quota > 0,
          let period = read(periodFile).flatMap({ Double(Parse.trimmed($0)) }), period > 0
        else { return nil }
        return quota / period
      }
      return Parse.cpuMax(quotaText)
    }

    func readFrequencyScale() -> Double? {
      let ratios = frequencies.compactMap { f in
        read(f.current).flatMap { Double(Parse.trimmed($0)) }.map { $0 / f.maxKHz }
      }
      return ratios.isEmpty ? nil : ratios.reduce(0, +) / Double(ratios.count)
    }

    /// The whole file as text, or nil. `/proc` files report size 0, so this reads to EOF.
    static func read(_ path: String) -> String? {
      let fd = open(path, O_RDONLY)
      guard fd >= 0 else { return nil }
      defer { close(fd) }
      var bytes: [UInt8] = []
      var chunk = [UInt8](repeating: 0, count: 4096)
      while true {
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4096) }
        if n < 0 { return nil }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
      }
      return String(decoding: bytes, as: UTF8.self)
    }
  }
}

/// Parsers for the kernel's text formats; each returns nil on anything unexpected.
enum Parse {
  static func trimmed(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }

  /// Number of `cpuN` lines in `/proc/stat`.
  static func cpuCount(_ stat: String) -> Int {
    stat.split(separator: "\n").filter { $0.hasPrefix("cpu") && $0.dropFirst(3).first?.isNumber == true }
      .count
  }

  /// The aggregate `cpu` line: `cpu user nice system idle iowait irq softirq steal guest guest_nice`.
  static func cpuTimes(_ stat: String) -> CPUTimes? {
    guard let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
    let v = line.split(separator: " ").dropFirst().compactMap { Int($0) }
    guard v.count >= 4 else { return nil }
    let fields = Array(v.prefix(8))
    let total = fields.reduce(0, +)
    let idle = v[3] + (v.count > 4 ? v[4] : 0)
    return CPUTimes(total: total, busy: total - idle)
  }

  /// utime + stime (fields 14 and 15) of `/proc/self/stat`; the command name in parentheses may
  /// hold spaces, so fields are counted after the last `)`.
  static func selfTicks(_ text: String) -> Int? {
    guard let close = text.lastIndex(of: ")") else { return nil }
    let rest = text[text.index(after: close)...].split(separator: " ")
    // rest[0] is field 3 (state); utime is field 14 → rest[11], stime rest[12].
    guard rest.count > 12, let u = Int(rest[11]), let s = Int(rest[12]) else { return nil }
    return u + s
  }

  /// `procs_running N` of `/proc/stat`: threads runnable at the moment of reading.
  static func procsRunning(_ stat: String) -> Int? {
    guard let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("procs_running ") }) else {
      return nil
    }
    return Int(line.dropFirst("procs_running ".count))
  }

  static func loadAverage(_ text: String) -> Double? {
    text.split(separator: " ").first.flatMap { Double($0) }
  }

  /// `MemAvailable:  123456 kB` → bytes.
  static func memAvailable(_ text: String) -> Int? {
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }) else {
      return nil
    }
    let parts = line.split(separator: " ", omittingEmptySubsequences: true)
    guard parts.count >= 2, let kb = Int(parts[1]) else { return nil }
    return kb * 1024
  }

  /// `/proc/self/cgroup` → controller list → path. The v2 entry (`0::/path`) is under key "".
  static func cgroups(_ text: String) -> [String: String] {
    var out: [String: String] = [:]
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
      guard parts.count == 3 else { continue }
      let path = String(parts[2])
      if parts[1].isEmpty { out[""] = path }
      for controller in parts[1].split(separator: ",") { out[String(controller)] = path }
    }
    return out
  }

  /// A cgroup memory limit in bytes; nil for `max` (v2) or the v1 "unlimited" sentinel (≥ 2⁶⁰).
  static func cgroupBytes(_ text: String) -> Int? {
    let t = trimmed(text)
    guard t != "max", let v = Int(t), v > 0, v < 1 << 60 else { return nil }
    return v
  }

  /// v2 `cpu.max`: `max 100000` (unlimited) or `quota period` → cores.
  static func cpuMax(_ text: String) -> Double? {
    let parts = trimmed(text).split(separator: " ")
    guard parts.count == 2, parts[0] != "max", let q = Double(parts[0]), let p = Double(parts[1]), q > 0,
      p > 0
    else { return nil }
    return q / p
  }
}
