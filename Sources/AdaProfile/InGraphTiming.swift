import AdaNN
import AdaTensor

/// Each node's time *inside* the graph: `Executor.predict` at batch 1 with a timestamp after
/// every node (`Executor.predict(_:parameters:afterNode:)`), so node `i` is charged everything
/// from the end of node `i − 1` to its own end — gathering its parameters, its forward pass with
/// the caches as the nodes before left them, storing its output and freeing dead inputs.
///
/// A diagnostic, not a table source: it needs the whole graph, while the lookup table holds ops
/// timed alone so that any variant can be predicted from signatures (docs/profiler.md §3). The
/// difference between a node's in-graph time and its table time is what the estimator's
/// context terms have to explain. The benchmark runs in the probe's interleaved rounds next to
/// the ops and the end-to-end model, so all three see the same load.
///
///     let timing = InGraphTiming(executor: executor, parameters: parameters)
///     _ = LatencyProbe.measure([... , timing.benchmark(budgetMs: 400)], config: config)
///     timing.nodeMs   // median per node, node order
public final class InGraphTiming {
  let executor: Executor
  let parameters: Parameters
  let x: Tensor
  private var samples: [[Double]]
  private var totals: [Double] = []
  private var stamps: [Double]
  private var sink: Float = 0

  public init(executor: Executor, parameters: Parameters, seed: UInt64 = 7) {
    self.executor = executor
    self.parameters = parameters
    var g = SeededGenerator(seed: seed)
    x = Tensor.uniform([1] + executor.graph.inputShape, lo: -1, hi: 1, using: &g)
    let n = executor.graph.nodes.count
    samples = [[Double]](repeating: [], count: n)
    stamps = [Double](repeating: 0, count: n)
  }

  /// One timed `predict` per call; the per-node split is recorded on the side.
  public func benchmark(budgetMs: Double) -> Benchmark {
    Benchmark(name: "in-graph \(executor.graph.name)", budgetMs: budgetMs) { [self] in
      run()
    }
  }

  func run() {
    let t0 = MonotonicClock.now()
    let y = executor.predict(x, parameters: parameters) { i in stamps[i] = MonotonicClock.now() }
    sink += y.first?.scalars.first ?? 0
    var previous = t0
    for i in stamps.indices {
      samples[i].append(stamps[i] - previous)
      previous = stamps[i]
    }
    totals.append(previous - t0)
  }

  /// Median in-graph time per node (milliseconds, node order), clock reads included.
  public var nodeMs: [Double] { samples.map { SampleSet.median($0) * 1e3 } }
  /// Median total of the timed runs (milliseconds).
  public var totalMs: Double { SampleSet.median(totals) * 1e3 }
}
