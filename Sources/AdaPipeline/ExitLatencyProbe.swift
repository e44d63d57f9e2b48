import AdaBundle
import AdaNN
import AdaProfile
import AdaTensor

/// Measured batch-1 latency per input of a multi-exit variant at each operating point, and of
/// the same variant without early exiting, on one sample of test inputs (docs/exits.md,
/// "Measured latency").
///
/// Each input is run alone (batch 1) — with `ExitExecutor` and the point's thresholds, so an
/// input that leaves early runs nothing further, or with the plain `Executor` on the static
/// variant. The configurations are interleaved round by round, and each keeps its fastest
/// round's mean, so a burst of load on a shared machine lands on every configuration alike
/// instead of on whichever ran during it.
struct ExitLatencyProbe {
  /// Inputs timed one by one per round.
  var sample: Int = 200
  var rounds: Int = 3

  struct Result {
    /// Mean ms per input of the static variant.
    var staticMs: Double
    /// Mean ms per input at each operating point, in the plan's order.
    var pointMs: [Double]
  }

  func measure(
    variant: Model, multi: Model, plan: Manifest.ExitPlan, test: LabeledDataset
  ) throws(AdaError) -> Result {
    let n = min(sample, test.count)
    guard n > 0 else { return Result(staticMs: 0, pointMs: plan.operatingPoints.map { _ in 0 }) }
    let x = try test.examples(at: Array(0..<n))
    let inputs = (0..<n).map { x.slice(batch: $0..<($0 + 1)) }
    let plain = try Executor(graph: variant.graph)
    let exits = try ExitExecutor(
      graph: multi.graph, exits: plan.exits.map(\.output), confidence: plan.confidence)
    let thresholds = plan.operatingPoints.map(\.thresholds)
    for t in thresholds { try exits.checkThresholds(t) }
    // Configuration 0 is the static variant, k + 1 the k-th operating point.
    func runAll(_ c: Int) throws(AdaError) {
      for input in inputs {
        if c == 0 {
          _ = plain.predict(input, parameters: variant.parameters)
        } else {
          _ = try exits.predict(input, parameters: multi.parameters, thresholds: thresholds[c - 1])
        }
      }
    }
    let configurations = thresholds.count + 1
    for c in 0..<configurations { try runAll(c) }  // warm-up
    var best = [Double](repeating: .infinity, count: configurations)
    for _ in 0..<rounds {
      for c in 0..<configurations {
        let start = MonotonicClock.now()
        try runAll(c)
        best[c] = min(best[c], (MonotonicClock.now() - start) * 1e3 / Double(n))
      }
    }
    return Result(staticMs: best[0], pointMs: Array(best.dropFirst()))
  }
}
