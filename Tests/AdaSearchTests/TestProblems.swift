import AdaSearch
import AdaTensor
import Foundation

/// Every genome a problem was asked to evaluate, in order (thread-safe: problems are Sendable).
final class EvaluationLog: @unchecked Sendable {
  private let lock = NSLock()
  private var genomes: [Genome] = []
  private var batches = 0

  func record(_ batch: [Genome]) {
    lock.lock()
    genomes += batch
    batches += 1
    lock.unlock()
  }

  var all: [Genome] {
    lock.lock()
    defer { lock.unlock() }
    return genomes
  }

  var batchCount: Int {
    lock.lock()
    defer { lock.unlock() }
    return batches
  }
}

/// ZDT1 (Zitzler, Deb, Thiele 2000) with each variable discretised to `levels` values
/// x = v / (levels − 1): f1 = x₁, g = 1 + 9·mean(x₂…xₙ), f2 = g·(1 − √(f1/g)), both minimised.
/// The true front is x₂…xₙ = 0: the points (k/(L−1), 1 − √(k/(L−1))), k = 0…L−1.
/// With `maximizeFirst`, the first objective is reported as quality = 1 − f1, maximised (the
/// same problem seen through a maximised objective).
struct DiscreteZDT1: SearchProblem {
  var genes = 8
  var levels = 16
  var maximizeFirst = false
  var log = EvaluationLog()

  var space: SearchSpace {
    SearchSpace(
      genes: (0..<genes).map { i in
        .init(name: "x\(i)", choices: (0..<levels).map { "\($0)/\(levels - 1)" })
      })
  }

  var objectives: [Objective] {
    [maximizeFirst ? .maximize("quality") : .minimize("f1"), .minimize("f2")]
  }

  func repair(_ genome: Genome) -> Genome { genome }

  func values(_ genome: Genome) -> [Double] {
    let x = genome.values.map { Double($0) / Double(levels - 1) }
    let g = 1 + 9 * x.dropFirst().reduce(0, +) / Double(genes - 1)
    let f2 = g * (1 - (x[0] / g).squareRoot())
    return [maximizeFirst ? 1 - x[0] : x[0], f2]
  }

  func evaluate(_ genomes: [Genome]) throws(AdaError) -> [Evaluation] {
    log.record(genomes)
    return genomes.map { Evaluation(objectives: values($0)) }
  }

  /// The true Pareto front, in objective units.
  var trueFront: [[Double]] {
    (0..<levels).map { k in
      var v = [Int](repeating: 0, count: genes)
      v[0] = k
      return values(Genome(v))
    }
  }
}

/// Genomes are valid only when non-decreasing; `repair` replaces each value by the running
/// maximum. Objectives: the sum (minimise) and the number of distinct values (maximise).
struct MonotoneProblem: SearchProblem {
  var genes = 6
  var choices = 5
  var log = EvaluationLog()

  var space: SearchSpace {
    SearchSpace(genes: (0..<genes).map { .init(name: "g\($0)", choices: (0..<choices).map(String.init)) })
  }

  var objectives: [Objective] { [.minimize("sum"), .maximize("distinct")] }

  static func isValid(_ g: Genome) -> Bool { zip(g.values, g.values.dropFirst()).allSatisfy { $0 <= $1 } }

  func repair(_ genome: Genome) -> Genome {
    var v = genome.values
    for i in v.indices.dropFirst() { v[i] = max(v[i], v[i - 1]) }
    return Genome(v)
  }

  func evaluate(_ genomes: [Genome]) throws(AdaError) -> [Evaluation] {
    log.record(genomes)
    return genomes.map { g in
      Evaluation(objectives: [Double(g.values.reduce(0, +)), Double(Set(g.values).count)])
    }
  }
}

/// Discrete ZDT1 with the hard constraint x₁ ≥ `minimumX1` (violation = how far below). The
/// infeasible region holds points that would otherwise dominate part of the feasible front.
struct ConstrainedZDT1: SearchProblem {
  var base = DiscreteZDT1(genes: 6, levels: 11)
  /// Above 1, every genome is infeasible.
  var minimumX1 = 0.5
  var space: SearchSpace { base.space }
  var objectives: [Objective] { base.objectives }

  func repair(_ genome: Genome) -> Genome { genome }

  func evaluate(_ genomes: [Genome]) throws(AdaError) -> [Evaluation] {
    try base.evaluate(genomes).map { e in
      Evaluation(objectives: e.objectives, constraintViolation: max(0, minimumX1 - e.objectives[0]))
    }
  }
}

/// Wraps a problem and corrupts what `evaluate` returns, to test the checks on it.
struct FaultyProblem: SearchProblem {
  enum Fault: Sendable {
    case dropLast, extraObjective, nan, negativeViolation, throwsError, outOfRangeRepair
  }
  var base = DiscreteZDT1(genes: 4, levels: 4)
  var fault: Fault

  var space: SearchSpace { base.space }
  var objectives: [Objective] { base.objectives }

  func repair(_ genome: Genome) -> Genome {
    fault == .outOfRangeRepair ? Genome(genome.values.map { _ in 99 }) : genome
  }

  func evaluate(_ genomes: [Genome]) throws(AdaError) -> [Evaluation] {
    var e = try base.evaluate(genomes)
    switch fault {
    case .dropLast: e.removeLast()
    case .extraObjective: e[0].objectives.append(1)
    case .nan: e[1].objectives[0] = .nan
    case .negativeViolation: e[0].constraintViolation = -1
    case .throwsError: throw AdaError(.missing, path: "validation split", "no images")
    case .outOfRangeRepair: break
    }
    return e
  }
}

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory(_ name: String) -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent(
    "adasearch-\(name)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
  try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// The thrown AdaError (failing the test when none or another type is thrown).
func adaError(_ body: () throws -> Void) -> AdaError? {
  do {
    try body()
    return nil
  } catch let e as AdaError {
    return e
  } catch {
    return nil
  }
}
