import AdaTensor

/// The draws the search makes, defined here once so they never depend on the standard library's
/// (unspecified, version-dependent) algorithms behind `Int.random(in:using:)`.
extension SeededGenerator {
  /// Uniform in `0..<n` (Lemire's multiply-high; bias below 2⁻⁵⁸ for the small n used here).
  mutating func nextIndex(below n: Int) -> Int {
    precondition(n > 0, "nextIndex(below:) needs a positive bound")
    return Int(next().multipliedFullWidth(by: UInt64(n)).high)
  }

  /// Uniform in [0, 1) with 53 random bits.
  mutating func nextProbability() -> Double {
    Double(next() >> 11) * 0x1p-53
  }

  /// True with probability `p`.
  mutating func chance(_ p: Double) -> Bool { nextProbability() < p }
}
