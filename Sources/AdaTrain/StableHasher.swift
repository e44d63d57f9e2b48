import AdaNN
import AdaTensor
import Foundation

/// A 64-bit FNV-1a hash whose value never changes between processes, machines or Swift versions
/// (unlike `Hasher`, which is seeded per process). Used for configuration hashes and checkpoint
/// checksums. Not cryptographic.
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

  /// Every tensor of a parameter store, in sorted key order, shapes included.
  public mutating func combine(_ parameters: Parameters) {
    for key in parameters.keys {
      let t = parameters.tensors[key]!
      combine(key)
      combine(json: t.shape)
      combine(t.scalars)
    }
  }

  /// 16 lower-case hex digits.
  public var hexDigest: String {
    let s = String(value, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
  }
}
