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
  static func measure(warmup: Int = 3, minRuns: Int = 5, seconds: Double, _ body: () -> Void) -> [Double] {
    for _ in 0..<warmup { body() }
    var times: [Double] = []
    let deadline = now() + seconds
    while times.count < minRuns || now() < deadline {
      let t0 = now()
      body()
      times.append(now() - t0)
    }
    return times
  }

  static func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
  }
}

/// One benchmark result line, printed as JSON.
struct BenchRecord: Codable {
  var bench: String
  var metric: String
  var value: Double
  var unit: String
  var detail: [String: String] = [:]

  func emit() {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try! encoder.encode(self), as: UTF8.self))
  }
}
