import AdaSearch
import Foundation

/// Evaluations by genome, safe to share between threads.
final class EvaluationMemo: @unchecked Sendable {
  private let lock = NSLock()
  private var table: [Genome: Evaluation] = [:]

  subscript(genome: Genome) -> Evaluation? {
    get {
      lock.lock()
      defer { lock.unlock() }
      return table[genome]
    }
    set {
      lock.lock()
      defer { lock.unlock() }
      table[genome] = newValue
    }
  }
}
