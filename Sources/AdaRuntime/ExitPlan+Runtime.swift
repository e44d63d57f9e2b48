import AdaBundle

extension Manifest.ExitPlan {
  /// MACs of one input that leaves at `exit` (`exits.count`: the final output) when only the
  /// exits with a threshold run their heads: the backbone up to that exit plus the heads of the
  /// enabled exits up to it.
  ///
  ///     exit k:  macs(k)    − Σ headMacs(j) for disabled j < k
  ///     final:   finalMacs  − Σ headMacs(j) for every disabled j
  public func macs(exit: Int, thresholds: [Float?]) -> Int {
    precondition(thresholds.count == exits.count, "one threshold per exit")
    let total = exit < exits.count ? exits[exit].macs : finalMacs
    let skipped = (0..<min(exit, exits.count)).filter { thresholds[$0] == nil }
    return total - skipped.reduce(0) { $0 + exits[$1].headMacs }
  }

  /// Thresholds with every exit disabled: the variant's own output only.
  public var noExits: [Float?] { Array(repeating: nil, count: exits.count) }
}
