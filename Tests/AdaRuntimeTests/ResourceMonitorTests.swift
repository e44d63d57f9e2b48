import AdaProfile
import Foundation
import TestSupport
import XCTest

@testable import AdaRuntime

/// The monitor on fake `/proc` and `/sys` trees in a temporary directory, with a fake clock.
final class ResourceMonitorTests: XCTestCase {
  /// A clock the test moves by hand.
  final class FakeClock: @unchecked Sendable {
    var now = 100.0
    var read: @Sendable () -> Double { { self.now } }
  }

  var root: URL!
  let clock = FakeClock()

  override func setUp() { root = Fixtures.temporaryDirectory("adascale-fakeroot") }
  override func tearDown() { try? FileManager.default.removeItem(at: root) }

  func write(_ relative: String, _ text: String) {
    let url = root.appendingPathComponent(relative)
    try! FileManager.default.createDirectory(
      at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try! text.write(to: url, atomically: true, encoding: .utf8)
  }

  /// `/proc/stat` for two CPUs with aggregate `cpu user nice system idle iowait irq softirq steal`.
  func stat(busy: Int, idle: Int) {
    write(
      "proc/stat",
      "cpu  \(busy) 0 0 \(idle) 0 0 0 0 0 0\ncpu0 1 0 0 1 0 0 0 0 0 0\ncpu1 1 0 0 1 0 0 0 0 0 0\nintr 5\n")
  }

  func selfStat(ticks: Int) {
    write("proc/self/stat", "4242 (ada scale) R 1 1 1 0 -1 4194304 100 0 0 0 \(ticks) 0 0 0 20 0 3 0 1 1 1")
  }

  func fullTree() {
    stat(busy: 1000, idle: 1000)
    selfStat(ticks: 100)
    write("proc/loadavg", "1.50 0.80 0.40 2/150 999\n")
    write("proc/meminfo", "MemTotal:  8000000 kB\nMemFree: 100 kB\nMemAvailable:    2097152 kB\n")
    write("proc/self/cgroup", "0::/app.slice\n")
    write("sys/fs/cgroup/app.slice/memory.max", "1073741824\n")
    write("sys/fs/cgroup/app.slice/memory.current", "536870912\n")
    write("sys/fs/cgroup/app.slice/cpu.max", "150000 100000\n")
    for cpu in 0..<2 {
      write("sys/devices/system/cpu/cpu\(cpu)/cpufreq/cpuinfo_max_freq", "2000000\n")
      write("sys/devices/system/cpu/cpu\(cpu)/cpufreq/scaling_cur_freq", cpu == 0 ? "1000000\n" : "1400000\n")
    }
    write("sys/class/power_supply/AC/type", "Mains\n")
    write("sys/class/power_supply/BAT0/type", "Battery\n")
    write("sys/class/power_supply/BAT0/capacity", "42\n")
    write("sys/class/power_supply/BAT0/status", "Discharging\n")
    write("sys/class/thermal/thermal_zone0/temp", "55000\n")
    write("sys/class/thermal/thermal_zone1/temp", "83500\n")
  }

  func testEverySourceIsReadFromTheTree() {
    fullTree()
    var m = ResourceMonitor(root: root.path, clock: clock.read)
    // 0.5 s later: 100 more busy of 200 jiffies; this process used 40 of them.
    clock.now += 0.5
    stat(busy: 1100, idle: 1100)
    selfStat(ticks: 140)
    let s = m.sample()
    XCTAssertEqual(s.cpus, 2)
    XCTAssertEqual(s.cpuBusyShare!, 0.5, accuracy: 1e-12)
    XCTAssertEqual(s.selfBusyShare!, 0.2, accuracy: 1e-12)
    XCTAssertEqual(s.loadAverage1, 1.5)
    XCTAssertEqual(s.memAvailableBytes, 2_097_152 * 1024)
    XCTAssertEqual(s.cgroupMemoryLimitBytes, 1 << 30)
    XCTAssertEqual(s.cgroupMemoryUsageBytes, 1 << 29)
    XCTAssertEqual(s.memoryAvailableBytes, 1 << 29, "min(MemAvailable 2 GiB, limit − usage 512 MiB)")
    XCTAssertEqual(s.cgroupCPULimit!, 1.5, accuracy: 1e-12)
    XCTAssertEqual(s.frequencyScale!, 0.6, accuracy: 1e-12)
    XCTAssertEqual(s.batteryLevel!, 0.42, accuracy: 1e-12)
    XCTAssertEqual(s.batteryStatus, "Discharging")
    XCTAssertEqual(s.temperatureC!, 83.5, accuracy: 1e-12)

    let c = s.deviceContext(threads: 1)
    // Others keep (0.5 − 0.2) · 2 = 0.6 cores busy; 1.5 cores (cgroup) for them and our thread.
    XCTAssertEqual(c.cpuShare, 1.5 / 1.6, accuracy: 1e-12)
    XCTAssertEqual(s.deviceContext(threads: 2).cpuShare, 1.5 / 2.6, accuracy: 1e-12)
    XCTAssertEqual(c.frequencyScale, 0.6, accuracy: 1e-12)
    XCTAssertEqual(c.memoryAvailableMB!, 512, accuracy: 1e-9)
    XCTAssertEqual(c.batteryLevel!, 0.42, accuracy: 1e-12)
    XCTAssertEqual(c.thermal, .serious, "83.5 °C is between 80 and 90")
  }

  func testEverySourceMissingGivesUnknownsAndTheNominalContext() {
    var m = ResourceMonitor(root: root.appendingPathComponent("nothing-here").path, clock: clock.read)
    clock.now += 1
    let s = m.sample()
    XCTAssertEqual(s, ResourceSnapshot(time: clock.now), "every field nil")
    XCTAssertEqual(s.deviceContext(threads: 2), DeviceContext())
  }

  func testGarbageInSourcesIsUnknownNotACrash() {
    write("proc/stat", "cpu  x y z\n")
    write("proc/self/stat", "no parens here")
    write("proc/loadavg", "")
    write("proc/meminfo", "MemAvailable: lots kB\n")
    write("proc/self/cgroup", "garbage\n")
    write("sys/fs/cgroup/memory.max", "max\n")
    write("sys/fs/cgroup/memory.current", "-\n")
    write("sys/fs/cgroup/cpu.max", "max 100000\n")
    write("sys/class/power_supply/BAT0/type", "Battery\n")
    write("sys/class/power_supply/BAT0/capacity", "full\n")
    write("sys/class/thermal/thermal_zone0/temp", "hot\n")
    var m = ResourceMonitor(root: root.path, clock: clock.read)
    clock.now += 1
    let s = m.sample()
    XCTAssertNil(s.cpuBusyShare)
    XCTAssertNil(s.loadAverage1)
    XCTAssertNil(s.memAvailableBytes)
    XCTAssertNil(s.cgroupMemoryLimitBytes, "'max' is no limit")
    XCTAssertNil(s.cgroupCPULimit, "'max 100000' is no limit")
    XCTAssertNil(s.batteryLevel)
    XCTAssertNil(s.temperatureC)
    XCTAssertEqual(s.deviceContext(threads: 1), DeviceContext())
  }

  func testCgroupV1FilesAreTheFallback() {
    write("proc/self/cgroup", "4:memory:/job\n2:cpu,cpuacct:/\n")
    write("sys/fs/cgroup/memory/job/memory.limit_in_bytes", "268435456\n")
    write("sys/fs/cgroup/memory/job/memory.usage_in_bytes", "67108864\n")
    write("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "50000\n")
    write("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n")
    var m = ResourceMonitor(root: root.path, clock: clock.read)
    let s = m.sample()
    XCTAssertEqual(s.memoryAvailableBytes, 192 << 20)
    XCTAssertEqual(s.cgroupCPULimit!, 0.5, accuracy: 1e-12)
    XCTAssertEqual(
      s.deviceContext(threads: 1).cpuShare, 0.5, accuracy: 1e-12, "no /proc/stat: the quota alone")
  }

  func testV1UnlimitedSentinelIsNoLimit() {
    write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n")
    write("sys/fs/cgroup/memory/memory.usage_in_bytes", "1000\n")
    var m = ResourceMonitor(root: root.path, clock: clock.read)
    XCTAssertNil(m.sample().cgroupMemoryLimitBytes)
  }

  /// Shares come from readings at least `cpuWindow` apart; samples in between repeat the last.
  func testCPUShareIsADeltaOverTheWindow() {
    fullTree()
    var m = ResourceMonitor(root: root.path, clock: clock.read, cpuWindow: 0.25)
    clock.now += 0.1
    stat(busy: 1190, idle: 1010)
    XCTAssertNil(m.sample().cpuBusyShare, "0.1 s after the first reading: too short, nothing yet")
    clock.now += 0.2
    stat(busy: 1190, idle: 1010)
    XCTAssertEqual(m.sample().cpuBusyShare!, 0.95, accuracy: 1e-12)
    clock.now += 0.1
    stat(busy: 1190, idle: 1210)
    XCTAssertEqual(m.sample().cpuBusyShare!, 0.95, accuracy: 1e-12, "within the window: the last share")
    clock.now += 0.2
    XCTAssertEqual(m.sample().cpuBusyShare!, 0, accuracy: 1e-12, "all idle since the last reading")
  }

  /// Busy time saturates at all cores; the runnable count still sees the queue. Five threads
  /// runnable (the sampler among them) on two saturated cores, 1.5 of them ours by the cgroup
  /// quota: four others, share 1.5 / (4 + 1).
  func testRunnableThreadsCountWhenTheCoresAreSaturated() {
    fullTree()
    var m = ResourceMonitor(root: root.path, clock: clock.read, cpuWindow: 0.25)
    for (i, running) in [4, 6].enumerated() {
      clock.now += 0.15
      write(
        "proc/stat", "cpu  \(1200 + 100 * i) 0 0 1000 0 0 0 0 0 0\ncpu0 1\ncpu1 1\nprocs_running \(running)\n"
      )
      _ = m.sample()
    }
    let s = m.sample()
    XCTAssertEqual(s.runnable!, 5, accuracy: 1e-12, "mean of 4 and 6")
    XCTAssertEqual(s.cpuBusyShare!, 1, accuracy: 1e-12)
    XCTAssertEqual(s.deviceContext(threads: 1).cpuShare, 1.5 / 5.0, accuracy: 1e-12)
  }

  /// One hog on one of two cores beside a one-thread model: the scheduler leaves us a core.
  func testFairShareRuleForHogs() {
    var s = ResourceSnapshot(time: 0)
    s.cpus = 2
    s.selfBusyShare = 0.5
    s.cpuBusyShare = 1.0  // us on one core, a hog on the other
    XCTAssertEqual(s.deviceContext(threads: 1).cpuShare, 1)
    s.cpuBusyShare = 1.0
    s.selfBusyShare = 0.0  // three hogs fill both cores while we wait
    XCTAssertEqual(s.deviceContext(threads: 1).cpuShare, 2.0 / 3.0, accuracy: 1e-12)
    s.cpus = 1
    s.cpuBusyShare = 1
    XCTAssertEqual(s.deviceContext(threads: 1).cpuShare, 0.5, accuracy: 1e-12, "one core, one hog: half")
  }

  func testChargingBatteryMeansNoEnergyPressure() {
    var s = ResourceSnapshot(time: 0)
    s.batteryLevel = 0.2
    s.batteryStatus = "Charging"
    XCTAssertNil(s.deviceContext(threads: 1).batteryLevel)
    s.batteryStatus = "Discharging"
    XCTAssertEqual(s.deviceContext(threads: 1).batteryLevel, 0.2)
  }

  func testThermalThresholds() {
    let t = ThermalThresholds()
    XCTAssertEqual(
      [40, 70, 79.9, 80, 89, 90, 120].map { t.state($0) },
      [
        .nominal, .fair, .fair, .serious, .serious, .critical, .critical,
      ])
  }

  func testRealSystemSampleNeverCrashes() {
    var m = ResourceMonitor()
    let s = m.sample()
    let c = s.deviceContext(threads: 2)
    XCTAssertTrue(c.cpuShare > 0 && c.cpuShare <= 1)
    XCTAssertTrue(c.frequencyScale > 0 && c.frequencyScale <= 1)
  }
}
