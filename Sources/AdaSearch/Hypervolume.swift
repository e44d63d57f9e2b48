import AdaTensor

/// The hypervolume indicator: the volume of the region that a set of points dominates and that
/// is bounded by a reference point, everything minimised. A larger value means a front that is
/// closer to the ideal and more spread out. Points not strictly better than the reference in
/// every objective contribute nothing; dominated points add nothing.
///
///     Hypervolume.compute([[1, 3], [2, 2], [3, 1]], reference: [4, 4])  // 6
public enum Hypervolume {
  /// Exact hypervolume by dimension sweep (HSO-style slicing): sort by the last objective, and
  /// sum over slabs between consecutive values the (d−1)-dimensional volume of the points below.
  /// 1-D and 2-D are closed-form sweeps. O(n^(d−1) log n): fine for the fronts of a search
  /// (n < 200, d ≤ 4).
  public static func compute(_ points: [[Double]], reference: [Double]) -> Double {
    let inside = points.filter { p in
      precondition(p.count == reference.count, "point and reference differ in dimension")
      return zip(p, reference).allSatisfy { $0 < $1 }
    }
    guard !inside.isEmpty else { return 0 }
    return sweep(inside, reference: reference, dimensions: reference.count)
  }

  /// Volume dominated by `points` (all strictly inside the reference box) in their first `d`
  /// coordinates.
  private static func sweep(_ points: [[Double]], reference: [Double], dimensions d: Int) -> Double {
    switch d {
    case 0: return 1
    case 1: return reference[0] - points.map { $0[0] }.min()!
    case 2:
      let sorted = points.sorted { $0[0] != $1[0] ? $0[0] < $1[0] : $0[1] < $1[1] }
      var area = 0.0
      var ceiling = reference[1]
      for p in sorted where p[1] < ceiling {
        area += (reference[0] - p[0]) * (ceiling - p[1])
        ceiling = p[1]
      }
      return area
    default:
      let axis = d - 1
      let sorted = points.sorted { $0[axis] < $1[axis] }
      var volume = 0.0
      var k = 0
      while k < sorted.count {
        // All points with this value of the last coordinate join the slice together.
        var end = k + 1
        while end < sorted.count && sorted[end][axis] == sorted[k][axis] { end += 1 }
        let top = end < sorted.count ? sorted[end][axis] : reference[axis]
        let slice = sweep(Array(sorted[0..<end]), reference: reference, dimensions: d - 1)
        volume += slice * (top - sorted[k][axis])
        k = end
      }
      return volume
    }
  }

  /// The same quantity by inclusion–exclusion over all subsets of points (the volume of a union
  /// of boxes): exponential, for testing `compute` on small sets only (n ≤ 16).
  public static func inclusionExclusion(_ points: [[Double]], reference: [Double]) -> Double {
    let n = points.count
    precondition(n <= 16, "inclusionExclusion is exponential; use it on small sets")
    var total = 0.0
    for mask in 1..<(1 << n) {
      var corner = [Double](repeating: -.infinity, count: reference.count)
      var members = 0
      for i in 0..<n where mask & (1 << i) != 0 {
        members += 1
        for j in corner.indices { corner[j] = max(corner[j], points[i][j]) }
      }
      var box = 1.0
      for j in corner.indices { box *= max(0, reference[j] - corner[j]) }
      total += members % 2 == 1 ? box : -box
    }
    return total
  }
}

/// A normalised box for reporting hypervolume in the problem's units, whatever the directions:
/// per objective an `ideal` (the best value worth hoping for) and a `nadir` (the worst value
/// that still counts, the reference point). A value v maps to (v − ideal) / (nadir − ideal),
/// which is 0 at the ideal and 1 at the nadir for minimised and maximised objectives alike, so
/// the hypervolume of a front inside the box lies in [0, 1] (1 would be the ideal point itself).
///
///     // accuracy (maximise) counts from 0.5 up to 1.0; latency (minimise) from 20 ms down to 0
///     let box = HypervolumeReference(nadir: [0.5, 20], ideal: [1.0, 0])
public struct HypervolumeReference: Codable, Hashable, Sendable {
  public var nadir: [Double]
  public var ideal: [Double]

  public init(nadir: [Double], ideal: [Double]) {
    self.nadir = nadir
    self.ideal = ideal
  }

  /// Normalised costs of a value vector: 0 at the ideal, 1 at the nadir.
  public func normalise(_ values: [Double]) -> [Double] {
    zip(values, zip(nadir, ideal)).map { v, box in (v - box.1) / (box.0 - box.1) }
  }

  /// Normalised hypervolume of `values` (problem units), against the reference point (1, …, 1).
  public func hypervolume(_ values: [[Double]]) -> Double {
    Hypervolume.compute(values.map(normalise), reference: [Double](repeating: 1, count: nadir.count))
  }

  /// Throws unless there is one finite, distinct nadir/ideal pair per objective and the nadir
  /// lies on the worse side of the ideal for each objective's direction.
  public func validate(for objectives: [Objective], path: String) throws(AdaError) {
    guard nadir.count == objectives.count, ideal.count == objectives.count else {
      throw AdaError(
        .invalidValue, path: path,
        "expected \(objectives.count) nadir and ideal values (one per objective), "
          + "found \(nadir.count) and \(ideal.count)")
    }
    for (i, o) in objectives.enumerated() {
      guard nadir[i].isFinite, ideal[i].isFinite, o.prefers(ideal[i], over: nadir[i]) else {
        throw AdaError(
          .invalidValue, path: "\(path).\(o.name)",
          "the ideal (\(ideal[i])) must be better than the nadir (\(nadir[i])) for a "
            + "\(o.direction.rawValue)d objective")
      }
    }
  }

  /// A box from observed values when none was configured: ideal = best observed value, nadir =
  /// worst observed value plus 10% of the observed range (or of max(|worst|, 1) when all values
  /// are equal), so the extreme points still contribute.
  public static func fitting(_ values: [[Double]], objectives: [Objective]) -> HypervolumeReference {
    var nadir: [Double] = []
    var ideal: [Double] = []
    for (i, o) in objectives.enumerated() {
      let column = values.map { o.cost($0[i]) }
      let best = column.min() ?? 0
      let worst = column.max() ?? 1
      let margin = worst > best ? 0.1 * (worst - best) : 0.1 * max(abs(worst), 1)
      ideal.append(o.cost(best))  // cost() is its own inverse
      nadir.append(o.cost(worst + margin))
    }
    return HypervolumeReference(nadir: nadir, ideal: ideal)
  }
}
