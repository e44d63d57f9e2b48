import Foundation

/// How many busy processes, each busy for what share of the time, leave a single-threaded
/// process a given CPU share on this machine (docs/runtime.md, "Live replay").
///
/// With `C` cores, our `T` threads and `K` hogs busy at a given moment, a fair scheduler gives
/// us `min(1, C / (K + T))` of what we ask. A hog busy a share `d` of every period, with
/// independent phases, makes `K ~ Binomial(n, d)`, so the share we get on average is
///
///     s(n, d) = Σ_k  P(K = k) · min(1, C / (k + T))
///
/// For a target share the plan takes the fewest hogs that can reach it at full duty, and the
/// duty `d` that solves `s(n, d) = target` (bisection: `s` falls as `d` rises). A target of 1
/// needs no hogs; one below `s(maxHogs, 1)` gets `maxHogs` at full duty (`reachable` false).
public struct HogPlan: Hashable, Sendable {
  /// Share of each period every hog is busy, 0–1 (empty: no hogs).
  public var duty: Double
  public var hogs: Int
  /// The share `s(hogs, duty)` the plan gives on average.
  public var expectedShare: Double
  /// False when the target is below what `maxHogs` hogs at full duty can take.
  public var reachable: Bool

  public static func forShare(_ share: Double, cores: Int, threads: Int = 1, maxHogs: Int) -> HogPlan {
    precondition(share > 0 && share <= 1 && cores >= 1 && threads >= 1 && maxHogs >= 0)
    let idle = expected(hogs: 0, duty: 0, cores: cores, threads: threads)
    if share >= idle - 1e-9 || maxHogs == 0 {
      return HogPlan(duty: 0, hogs: 0, expectedShare: idle, reachable: share >= idle - 1e-9)
    }
    for n in 1...maxHogs where expected(hogs: n, duty: 1, cores: cores, threads: threads) <= share + 1e-9 {
      var (lo, hi) = (0.0, 1.0)
      for _ in 0..<50 {
        let mid = (lo + hi) / 2
        if expected(hogs: n, duty: mid, cores: cores, threads: threads) > share { lo = mid } else { hi = mid }
      }
      return HogPlan(
        duty: hi, hogs: n, expectedShare: expected(hogs: n, duty: hi, cores: cores, threads: threads),
        reachable: true)
    }
    return HogPlan(
      duty: 1, hogs: maxHogs, expectedShare: expected(hogs: maxHogs, duty: 1, cores: cores, threads: threads),
      reachable: false)
  }

  /// `s(n, d)` above.
  public static func expected(hogs n: Int, duty d: Double, cores: Int, threads: Int) -> Double {
    var total = 0.0
    var binomial = 1.0  // C(n, k)
    for k in 0...n {
      if k > 0 { binomial = binomial * Double(n - k + 1) / Double(k) }
      let p = binomial * pow(d, Double(k)) * pow(1 - d, Double(n - k))
      total += p * min(1, Double(cores) / Double(k + threads))
    }
    return total
  }
}
