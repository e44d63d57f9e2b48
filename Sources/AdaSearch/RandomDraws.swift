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

/// 64-bit FNV-1a over bytes: the same value in every process and on every machine (unlike
/// `Hasher`). Used for the checkpoint fingerprint; not cryptographic.
enum StableFNV {
  static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    return h
  }

  /// 16 lower-case hex digits.
  static func hex(_ bytes: some Sequence<UInt8>) -> String {
    let s = String(hash(bytes), radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
  }
}
