import AdaNN
import AdaTensor

/// How the latency probe times things.
public struct ProbeConfig: Codable, Hashable, Sendable {
  /// Timed time per op, split over `rounds` (milliseconds).
  public var budgetMs: Double
  /// Number of interleaved rounds.
  public var rounds: Int
  /// Untimed warm-up per benchmark before the first round (milliseconds, at least 3 calls).
  public var warmupMs: Double
  /// A sample lasts at least this long: cheap calls are timed in groups (milliseconds).
  public var minimumSampleMs: Double
  /// OpenBLAS threads and `Parallel.workers` while timing.
  public var threads: Int

  public init(
    budgetMs: Double = 100, rounds: Int = 8, warmupMs: Double = 10, minimumSampleMs: Double = 0.05,
    threads: Int = 1
  ) {
    self.budgetMs = budgetMs
    self.rounds = rounds
    self.warmupMs = warmupMs
    self.minimumSampleMs = minimumSampleMs
    self.threads = threads
  }

  enum CodingKeys: String, CodingKey {
    case rounds, threads
    case budgetMs = "budget_ms"
    case warmupMs = "warmup_ms"
    case minimumSampleMs = "minimum_sample_ms"
  }
}

/// One thing to time: a call of `run`, with its own timed budget. `relocate`, called before
/// every round, moves the benchmark's buffers to fresh memory (see `LatencyProbe`).
public struct Benchmark {
  public var name: String
  public var budgetMs: Double
  let run: () -> Void
  let relocate: () -> Void

  public init(
    name: String, budgetMs: Double, relocate: @escaping () -> Void = {}, run: @escaping () -> Void
  ) {
    self.name = name
    self.budgetMs = budgetMs
    self.relocate = relocate
    self.run = run
  }
}

/// Times benchmarks on this host at batch 1: warm-up, then interleaved rounds (each benchmark
/// gets `budget / rounds` of every round, the starting benchmark rotating), samples of
/// `k` back-to-back calls where `k` makes a sample last `minimumSampleMs`. See `SampleSet` for how
/// samples become count/mean/variance. Configures the allocator first (`Memory.configureAllocator`).
///
/// Before each round a benchmark's inputs and weights are copied to freshly allocated memory
/// behind a spacer of random size. Where buffers land (cache-set and 4 KiB aliasing between
/// input and output, physical pages) shifts a small op's time by a few per cent, fixed for a
/// process: measured here, `relu` on 14×14×64 took 3.645 µs in one process and 3.555 µs in the
/// next, with rounds inside each agreeing to 0.3 %. Relocating per round samples placements, so
/// the median over rounds is reproducible across processes and the between-round spread
/// (part of the recorded variance) covers what placement does.
public enum LatencyProbe {
  public static func measure(
    _ benchmarks: [Benchmark], config: ProbeConfig, progress: (String) -> Void = { _ in }
  ) -> [LatencyStats] {
    guard !benchmarks.isEmpty else { return [] }
    Memory.configureAllocator()
    return withThreads(config.threads) {
      var sets = benchmarks.map { SampleSet(callsPerSample: callsPerSample($0, config)) }
      let rounds = max(config.rounds, 1)
      for r in 0..<rounds {
        for j in 0..<benchmarks.count {
          let b = (j + r) % benchmarks.count
          if r > 0 { benchmarks[b].relocate() }
          sets[b].startRound()
          let slice = benchmarks[b].budgetMs / 1e3 / Double(rounds)
          let k = sets[b].callsPerSample
          let end = MonotonicClock.now() + slice
          repeat {
            let t0 = MonotonicClock.now()
            for _ in 0..<k { benchmarks[b].run() }
            sets[b].add(totalSeconds: MonotonicClock.now() - t0)
          } while MonotonicClock.now() < end
        }
        progress("round \(r + 1)/\(rounds) of \(benchmarks.count) benchmarks")
      }
      return sets.map(\.stats)
    }
  }

  /// Runs `body` with OpenBLAS and `Parallel` limited to `threads`, restoring OpenBLAS after.
  public static func withThreads<T>(_ threads: Int, _ body: () -> T) -> T {
    let saved = BLAS.threads
    BLAS.threads = threads
    defer { BLAS.threads = saved }
    return Parallel.$workers.withValue(threads) { body() }
  }

  /// Warms the benchmark up (at least 3 calls and `warmupMs`), then times calls for one
  /// `minimumSampleMs` to pick how many calls one sample holds.
  static func callsPerSample(_ b: Benchmark, _ config: ProbeConfig) -> Int {
    let start = MonotonicClock.now()
    var calls = 0
    while calls < 3 || MonotonicClock.now() - start < config.warmupMs / 1e3 {
      b.run()
      calls += 1
    }
    let target = config.minimumSampleMs / 1e3
    let t0 = MonotonicClock.now()
    var n = 0
    repeat {
      b.run()
      n += 1
    } while MonotonicClock.now() - t0 < target
    let perCall = (MonotonicClock.now() - t0) / Double(n)
    return perCall >= target ? 1 : Int((target / max(perCall, 1e-9)).rounded(.up))
  }
}

extension Benchmark {
  /// One op alone at batch 1: its layer with seeded random inputs and weights.
  public static func op(_ op: GraphOp, budgetMs: Double, seed: UInt64 = 7) -> Benchmark {
    var g = SeededGenerator(seed: seed)
    let inputs = op.inputShapes.map { Tensor.uniform([1] + $0, lo: -1, hi: 1, using: &g) }
    let params = op.spec.makeLayer().parameters(for: op.inputShapes).map {
      $0.initialValue(using: &g)
    }
    let state = Placement(inputs + params, seed: seed)
    return Benchmark(
      name: op.signature.key, budgetMs: budgetMs, relocate: state.relocate,
      run: forwardClosure(op.spec.makeLayer(), state, inputCount: inputs.count))
  }

  /// The whole model at batch 1 through `Executor.predict`.
  public static func model(
    _ executor: Executor, parameters: Parameters, budgetMs: Double, seed: UInt64 = 7
  ) -> Benchmark {
    var g = SeededGenerator(seed: seed)
    let x = Tensor.uniform([1] + executor.graph.inputShape, lo: -1, hi: 1, using: &g)
    let keys = parameters.keys
    let state = Placement([x] + keys.map { parameters.tensors[$0]! }, seed: seed)
    var p = parameters
    var sink: Float = 0
    return Benchmark(name: "model \(executor.graph.name)", budgetMs: budgetMs) {
      state.relocate()
      for (k, t) in zip(keys, state.tensors.dropFirst()) { p.tensors[k] = t }
    } run: {
      let y = executor.predict(state.tensors[0], parameters: p)
      sink += y.first?.scalars.first ?? 0
    }
  }

  private static func forwardClosure<L: Layer>(_ layer: L, _ state: Placement, inputCount: Int)
    -> () -> Void
  {
    var context = ForwardContext.inference
    var sink: Float = 0
    return {
      let inputs = Array(state.tensors[..<inputCount])
      var params = Array(state.tensors[inputCount...])
      let (y, _) = layer.forward(inputs, params: &params, context: &context)
      sink += y.scalars.first ?? 0
    }
  }
}

/// A benchmark's tensors and where they live; `relocate` copies them to fresh allocations made
/// after a spacer of random size (a multiple of 16 bytes below 16 KiB), then frees the old ones.
final class Placement {
  private(set) var tensors: [Tensor]
  private var spacer: [UInt8] = []
  private var g: SeededGenerator

  init(_ tensors: [Tensor], seed: UInt64) {
    self.tensors = tensors
    g = SeededGenerator(seed: seed ^ 0x5EED)
  }

  func relocate() {
    spacer = [UInt8](repeating: 1, count: 16 * Int.random(in: 1..<1024, using: &g))
    tensors = tensors.map { t in
      Tensor(shape: t.shape, scalars: t.scalars.withUnsafeBufferPointer { Array($0) })
    }
  }
}
