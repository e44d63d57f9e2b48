import Dispatch
import Foundation

/// Splitting the memory-bound loops around GEMM (im2col, col2im, depthwise, bias and activation)
/// across the cores. GEMM itself is threaded by OpenBLAS; these loops are not, so without this
/// they would leave all but one core idle.
///
/// Work is split into contiguous chunks of an outer index (usually the batch), one per worker,
/// and only when it is large enough to pay for waking the workers. Both knobs are task-local so
/// a caller that already runs its own workers (parallel candidate evaluation) or a test that wants
/// the parallel path on tiny shapes can change them for one scope:
///
///     Parallel.$workers.withValue(1) { model.predict(x) }        // stay on this thread
///     Parallel.$minimumWork.withValue(0) { layer.forward(...) }  // always split
public enum Parallel {
  /// Maximum number of concurrent workers. Defaults to the number of active cores.
  @TaskLocal public static var workers: Int = ProcessInfo.processInfo.activeProcessorCount

  /// Work (roughly, scalars touched) below which loops stay on the calling thread.
  @TaskLocal public static var minimumWork: Int = 100_000

  /// Calls `body` with contiguous subranges that together cover `0..<count`, concurrently when
  /// `work ≥ minimumWork` and more than one worker is allowed. `body` must only write memory
  /// owned by its own range (e.g. its own images of the batch).
  public static func forEachChunk(
    of count: Int, work: Int, _ body: (Range<Int>) -> Void
  ) {
    let chunks = chunkCount(for: count, work: work)
    if chunks <= 1 {
      if count > 0 { body(0..<count) }
      return
    }
    forEachChunk(of: count, chunks: chunks) { _, range in body(range) }
  }

  /// How many chunks `forEachChunk` would use: 1 when the work is small, else up to `workers`,
  /// never more than `count`. Callers that keep per-chunk partial sums size them with this.
  public static func chunkCount(for count: Int, work: Int) -> Int {
    if count <= 1 || work < minimumWork { return 1 }
    return max(1, min(workers, count))
  }

  /// The `c`-th of `chunks` near-equal contiguous subranges of `0..<count`.
  public static func chunkRange(_ c: Int, of chunks: Int, count: Int) -> Range<Int> {
    (c * count / chunks)..<((c + 1) * count / chunks)
  }

  /// Like `forEachChunk` but tells `body` its chunk index, for per-chunk partial results.
  /// `chunks` must come from `chunkCount(for:work:)` with the same arguments.
  public static func forEachChunk(
    of count: Int, chunks: Int, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void
  ) {
    if chunks <= 1 {
      if count > 0 { body(0, 0..<count) }
      return
    }
    // The workers only run while this call is on the stack, and each writes only what its own
    // range owns (the contract above), so handing `body` to them is sound even though the
    // compiler cannot prove it (it captures raw pointers).
    withoutActuallyEscaping(body) { body in
      let shared = UncheckedSendable(body)
      DispatchQueue.concurrentPerform(iterations: chunks) { c in
        shared.value(c, chunkRange(c, of: chunks, count: count))
      }
    }
  }
}

/// Carries a value the compiler cannot prove thread-safe into concurrent workers; see the
/// soundness argument at the one use above.
private struct UncheckedSendable<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}
