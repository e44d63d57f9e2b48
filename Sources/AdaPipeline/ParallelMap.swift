import AdaTensor
import Foundation

/// Runs independent jobs on a few threads and returns their results in index order — used to
/// evaluate search candidates in parallel. Each worker runs its kernels single-threaded
/// (`Parallel.workers = 1`), so a job's result does not depend on how many workers there are.
enum ParallelMap {
  static func map<T: Sendable>(
    _ count: Int, workers: Int, _ job: @Sendable (Int) throws(AdaError) -> T
  ) throws(AdaError) -> [T] {
    let box = ResultBox<T>(count: count)
    let threads = max(1, min(workers, count))
    DispatchQueue.concurrentPerform(iterations: threads) { w in
      Parallel.$workers.withValue(1) {
        for i in stride(from: w, to: count, by: threads) where !box.failed {
          do throws(AdaError) {
            box.set(i, .success(try job(i)))
          } catch {
            box.set(i, .failure(error))
          }
        }
      }
    }
    var out: [T] = []
    out.reserveCapacity(count)
    for i in 0..<count {
      switch box.results[i] {
      case .success(let v): out.append(v)
      case .failure(let e): throw e
      case nil: throw AdaError(.internalError, "ParallelMap: job \(i) did not run")
      }
    }
    return out
  }
}

/// Results written by several threads, each slot by one of them, under a lock.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private(set) var results: [Result<T, AdaError>?]
  private(set) var failed = false

  init(count: Int) { results = Array(repeating: nil, count: count) }

  func set(_ i: Int, _ r: Result<T, AdaError>) {
    lock.lock()
    defer { lock.unlock() }
    results[i] = r
    if case .failure = r { failed = true }
  }
}
