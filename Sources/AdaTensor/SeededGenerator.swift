/// A small, fast, explicitly seeded random generator (SplitMix64).
/// Every random choice in adascale takes one of these, so the same seed gives the same result.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Hashable {
  public private(set) var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [0, 1).
  public mutating func nextUniform() -> Float {
    Float(next() >> 40) * (1.0 / Float(1 << 24))
  }

  /// Standard normal (Box–Muller).
  public mutating func nextNormal() -> Float {
    var u1 = nextUniform()
    if u1 < 1e-7 { u1 = 1e-7 }
    let u2 = nextUniform()
    return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
  }

  /// A derived, independent generator (for per-worker or per-layer streams).
  public mutating func split() -> SeededGenerator { SeededGenerator(seed: next()) }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension Tensor {
  /// Uniform in [lo, hi).
  public static func uniform(
    _ shape: [Int], lo: Float, hi: Float, using g: inout SeededGenerator
  ) -> Tensor {
    Tensor(shape: shape, scalars: (0..<shape.elementCount).map { _ in lo + (hi - lo) * g.nextUniform() })
  }

  public static func normal(
    _ shape: [Int], mean: Float = 0, std: Float = 1, using g: inout SeededGenerator
  ) -> Tensor {
    Tensor(shape: shape, scalars: (0..<shape.elementCount).map { _ in mean + std * g.nextNormal() })
  }
}
