import AdaTensor
import Foundation

/// Wall-clock timing helpers for benchmarks (never used in tests).
enum Stopwatch {
  static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
  }

  /// Runs `body` `warmup` times, then until `seconds` have passed (at least `minRuns` times);
  /// returns each timed run's duration in seconds.
  static func measure(
    warmup: Int = 3, minRuns: Int = 5, seconds: Double, _ body: () throws -> Void
  ) rethrows -> [Double] {
    for _ in 0..<warmup { try body() }
    var times: [Double] = []
    let deadline = now() + seconds
    while times.count < minRuns || now() < deadline {
      let t0 = now()
      try body()
      times.append(now() - t0)
    }
    return times
  }

  static func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty
      ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
  }

  /// User + system CPU seconds used by every thread of this process so far. Under load from
  /// other processes, CPU time per step moves much less than wall time, so A/B comparisons
  /// report both.
  static func processCPUTime() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
  }

  /// Runs `body` with `n` OpenBLAS threads and `n` `Parallel` workers, restoring BLAS after.
  static func withThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
    let saved = BLAS.threads
    BLAS.threads = n
    defer { BLAS.threads = saved }
    return try Parallel.$workers.withValue(n) { try body() }
  }

  /// Seconds since 1970 (wall clock), to match a measurement with the load samples taken
  /// during it (tools/bench/loadmon.py).
  static func unixTime() -> Double { Date().timeIntervalSince1970 }

  /// The CPU's `model name` from /proc/cpuinfo ("?" where unavailable).
  static let cpuModel: String = {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "?" }
    for line in text.split(separator: "\n") where line.hasPrefix("model name") {
      if let value = line.split(separator: ":", maxSplits: 1).last {
        return value.trimmingCharacters(in: .whitespaces)
      }
    }
    return "?"
  }()

  /// The 1-minute load average from `/proc/loadavg` ("?" where unavailable): the machine is
  /// shared, so every number is reported next to it.
  static var loadAverage: String {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
      let first = text.split(separator: " ").first
    else { return "?" }
    return String(first)
  }
}

/// One benchmark result line, printed as JSON.
struct BenchRecord: Codable {
  var bench: String
  var metric: String
  var value: Double
  var unit: String
  var detail: [String: String] = [:]

  /// Prints `human` (unless `jsonOnly`) and then the record as one JSON line, with the thread
  /// count, BLAS core, CPU model and load average added to `detail`.
  func emit(_ human: String? = nil, jsonOnly: Bool = false) {
    if let human, !jsonOnly { print(human) }
    var r = self
    r.detail["load1"] = Stopwatch.loadAverage
    r.detail["blasCore"] = BLAS.coreName
    r.detail["cpu"] = Stopwatch.cpuModel
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try! encoder.encode(r), as: UTF8.self))
  }
}
