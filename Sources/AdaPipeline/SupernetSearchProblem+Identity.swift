import AdaCore
import AdaTrain

extension SupernetSearchProblem {
  /// A short hash of everything that decides a candidate's score besides its genome: the trained
  /// weights, the validation examples, objectives and constraints. The search checkpoint is
  /// named by it, so a changed recipe or supernet starts a new search instead of resuming a
  /// stale one.
  public func identity(constraints: SearchConstraints) -> String {
    var h = StableHasher()
    h.combine("adascale-search-problem-v1")
    h.combine(codec.supernet.weights)
    h.combine(json: objectiveNames)
    h.combine(json: constraints)
    h.combine(json: [validation.count, evaluator.calibration.count, evaluator.recalibrationBatches])
    h.combine(examplesOf: validation)
    return String(h.hexDigest.prefix(12))
  }
}
