import AdaTensor
import Foundation

/// Runs independent jobs on a few threads and returns their results in index order — used to
/// evaluate search candidates in parallel. OpenBLAS runs single-threaded for the duration and
/// each worker's kernels run unsplit (`Parallel.workers = 1`), so a job's result does not depend
/// on how many workers there are. When jobs fail, the error of the lowest-numbered failing job
/// is thrown (the same one whatever the scheduling).
enum ParallelMap {
  static func map<T: Sendable>(
    _ count: Int, workers: Int, _ job: @Sendable (Int) throws(AdaError) -> T
  ) throws(AdaError) -> [T] {
    let box = ResultBox<T>(count: count)
    let threads = max(1, min(workers, count))
    BLAS.withSingleThread {
      DispatchQueue.concurrentPerform(iterations: threads) { w in
        Parallel.$workers.withValue(1) {
          for i in stride(from: w, to: count, by: threads) {
            do throws(AdaError) {
              box.set(i, .success(try job(i)))
            } catch {
              box.set(i, .failure(error))
            }
          }
        }
      }
    }
    let results = box.results
    for r in results {
      if case .failure(let e) = r { throw e }
    }
    return results.map { r in
      guard case .success(let v) = r else { preconditionFailure("ParallelMap: every job ran") }
      return v
    }
  }
}

/// Results written by several threads, each slot by one of them, under a lock.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private var slots: [Result<T, AdaError>?]

  init(count: Int) { slots = Array(repeating: nil, count: count) }

  func set(_ i: Int, _ r: Result<T, AdaError>) {
    lock.lock()
    defer { lock.unlock() }
    slots[i] = r
  }

  var results: [Result<T, AdaError>?] {
    lock.lock()
    defer { lock.unlock() }
    return slots
  }
}
