import Foundation

/// A 64-bit FNV-1a hash whose value never changes between processes, machines or Swift versions
/// (unlike `Hasher`, which is seeded per process). Used for configuration hashes and checkpoint
/// checksums, search fingerprints, cache file names and machine ids: the one stable hash of the
/// project. Not cryptographic.
///
///     var h = StableHasher()
///     h.combine("batch=64")
///     h.combine(tensor.scalars)
///     h.hexDigest   // "9f3c…", 16 hex digits
public struct StableHasher: Sendable {
  public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325
  private static let prime: UInt64 = 0x0000_0100_0000_01B3

  public init() {}

  public mutating func combine(bytes: UnsafeRawBufferPointer) {
    var h = value
    for b in bytes { h = (h ^ UInt64(b)) &* Self.prime }
    value = h
  }

  public mutating func combine(_ string: String) {
    var s = string
    s.withUTF8 { combine(bytes: UnsafeRawBufferPointer($0)) }
    combine(UInt64(string.utf8.count))  // length-delimit so ("ab","c") ≠ ("a","bc")
  }

  public mutating func combine(_ x: UInt64) {
    withUnsafeBytes(of: x.littleEndian) { combine(bytes: $0) }
  }

  /// Float bit patterns, one 32-bit word per step (FNV-1a over words: 4× fewer steps than bytes).
  public mutating func combine(_ floats: [Float]) {
    floats.withUnsafeBufferPointer { combineFloats($0) }
    combine(UInt64(floats.count))
  }

  /// Float bit patterns without the length (for values hashed in chunks; add the total after).
  public mutating func combineFloats(_ floats: UnsafeBufferPointer<Float>) {
    var h = value
    for f in floats { h = (h ^ UInt64(f.bitPattern)) &* Self.prime }
    value = h
  }

  /// The canonical JSON (sorted keys) of a value.
  public mutating func combine(json value: some Encodable) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let data = (try? encoder.encode(value)) ?? Data("unencodable".utf8)
    data.withUnsafeBytes { combine(bytes: $0) }
    combine(UInt64(data.count))
  }

  /// 16 lower-case hex digits.
  public var hexDigest: String {
    let s = String(value, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
  }

  /// The hash of `bytes` alone (no length appended): for file names and cache keys.
  public static func hash(bytes: some Sequence<UInt8>) -> UInt64 {
    var h = StableHasher()
    for b in bytes { h.value = (h.value ^ UInt64(b)) &* prime }
    return h.value
  }

  /// `hash(bytes:)` as 16 lower-case hex digits.
  public static func hex(bytes: some Sequence<UInt8>) -> String {
    var h = StableHasher()
    h.value = hash(bytes: bytes)
    return h.hexDigest
  }
}
