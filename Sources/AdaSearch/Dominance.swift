/// An evaluated point as the selection sees it: objective values as costs (every objective
/// minimised; maximised ones negated) and the constraint violation (0 = feasible).
public struct Fitness: Hashable, Sendable {
  public var costs: [Double]
  public var violation: Double

  public init(costs: [Double], violation: Double = 0) {
    self.costs = costs
    self.violation = violation
  }

  /// The fitness of an evaluation under `objectives`.
  public init(_ evaluation: Evaluation, objectives: [Objective]) {
    costs = zip(evaluation.objectives, objectives).map { v, o in o.cost(v) }
    violation = evaluation.constraintViolation
  }

  public var isFeasible: Bool { violation <= 0 }

  /// Pareto dominance on costs: no worse in every objective and better in at least one.
  public func dominates(_ other: Fitness) -> Bool { Dominance.pareto(costs, other.costs) }

  /// Constraint-domination (Deb 2002, §IV-B): a feasible point beats an infeasible one; of two
  /// infeasible points the smaller violation wins; two feasible points compare by Pareto dominance.
  public func constrainedDominates(_ other: Fitness) -> Bool {
    switch (isFeasible, other.isFeasible) {
    case (true, false): return true
    case (false, true): return false
    case (false, false): return violation < other.violation
    case (true, true): return dominates(other)
    }
  }
}

public enum Dominance {
  /// Whether cost vector `a` Pareto-dominates `b` (all minimised).
  public static func pareto(_ a: [Double], _ b: [Double]) -> Bool {
    precondition(a.count == b.count, "cost vectors of different lengths")
    var strictlyBetter = false
    for i in a.indices {
      if a[i] > b[i] { return false }
      if a[i] < b[i] { strictlyBetter = true }
    }
    return strictlyBetter
  }

  /// Fast non-dominated sort (Deb 2002, §III-A) under constraint-domination: the indices of
  /// `points` grouped into fronts, best first; each front lists its indices in increasing order.
  /// Front 0 holds the points no other point constraint-dominates, front 1 those dominated only
  /// by front 0, and so on. O(M·N²).
  public static func fronts(_ points: [Fitness]) -> [[Int]] {
    let n = points.count
    var dominated = [[Int]](repeating: [], count: n)  // S_p: points p dominates
    var dominatedBy = [Int](repeating: 0, count: n)  // n_p: how many dominate p
    for p in 0..<n {
      for q in (p + 1)..<n {
        if points[p].constrainedDominates(points[q]) {
          dominated[p].append(q)
          dominatedBy[q] += 1
        } else if points[q].constrainedDominates(points[p]) {
          dominated[q].append(p)
          dominatedBy[p] += 1
        }
      }
    }
    var result: [[Int]] = []
    var current = (0..<n).filter { dominatedBy[$0] == 0 }
    while !current.isEmpty {
      result.append(current)
      var next: [Int] = []
      for p in current {
        for q in dominated[p] {
          dominatedBy[q] -= 1
          if dominatedBy[q] == 0 { next.append(q) }
        }
      }
      current = next.sorted()
    }
    return result
  }

  /// The rank (front number, 0 = best) of every point, from `fronts`.
  public static func ranks(_ fronts: [[Int]], count: Int) -> [Int] {
    var rank = [Int](repeating: 0, count: count)
    for (r, front) in fronts.enumerated() { for i in front { rank[i] = r } }
    return rank
  }

  /// Crowding distance (Deb 2002, §III-B) of the members of one front, in the order of `front`.
  /// Per objective the members are sorted by cost (ties by position in `front`); the two extremes
  /// get +∞ and each interior member adds (next − previous) / (max − min). An objective with
  /// max == min adds nothing. Fronts of one or two members are all +∞.
  public static func crowdingDistances(_ costs: [[Double]], front: [Int]) -> [Double] {
    let m = front.count
    var distance = [Double](repeating: 0, count: m)
    guard m > 2 else { return [Double](repeating: .infinity, count: m) }
    for objective in costs[front[0]].indices {
      let order = (0..<m).sorted { a, b in
        let (x, y) = (costs[front[a]][objective], costs[front[b]][objective])
        return x != y ? x < y : a < b
      }
      let lo = costs[front[order[0]]][objective]
      let hi = costs[front[order[m - 1]]][objective]
      distance[order[0]] = .infinity
      distance[order[m - 1]] = .infinity
      guard hi > lo else { continue }
      for k in 1..<(m - 1) {
        let gap = costs[front[order[k + 1]]][objective] - costs[front[order[k - 1]]][objective]
        distance[order[k]] += gap / (hi - lo)
      }
    }
    return distance
  }

  /// Indices of the points no other point Pareto-dominates among the feasible ones, in
  /// increasing order (infeasible points are never included). O(M·N²): the plain reference for
  /// `ParetoArchive`'s incremental front.
  public static func feasibleNonDominated(_ points: [Fitness]) -> [Int] {
    let feasible = points.indices.filter { points[$0].isFeasible }
    return feasible.filter { i in !feasible.contains { j in points[j].dominates(points[i]) } }
  }
}
