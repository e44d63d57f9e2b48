import AdaTensor
import CGzip

/// One message between the source and the workers of a chain (docs/mdi.md, "Wire format").
///
/// Little-endian, a 24-byte header, the payload, then a CRC-32 of header and payload:
///
///     offset  size  field
///          0     4  magic "AMDI"
///          4     1  version (1)
///          5     1  kind: 1 features, 2 result, 3 failure; control (re-planning, docs/mdi.md):
///                   4 plan, 5 planned, 6 down
///          6     1  encoding: 0 float32, 1 int8 (symmetric, one scale per tensor)
///          7     1  tensor count T (0 for failure)
///          8     8  task id
///         16     2  tag: features → index of the segment that reads them; result → index of the
///                   graph output (exit) that answered; failure → 0; plan → the segment the
///                   receiving worker takes; planned → 1 applied, 0 refused; down → the segment
///                   whose worker is gone
///         18     2  operating point: which of the chain's threshold sets applies to the task
///                   (features); 0 otherwise
///         20     4  payload length L
///         24     L  payload: per tensor `rank u8, dims u32 × rank, [scale f32 if int8], data`
///                   (f32 × count or i8 × count); failure, plan, planned, down: UTF-8 text (the
///                   reason; a plan's JSON, `ChainPlanMessage`)
///     24 + L     4  CRC-32 (IEEE, as zlib) of bytes 0 ..< 24 + L
///
/// Dimensions include the batch (a frame may carry several examples of one task).
public struct Frame: Equatable, Sendable {
  public enum Kind: UInt8, Sendable {
    case features = 1
    case result = 2
    case failure = 3
    /// The source's new plan, sent down the chain (each worker takes segment `tag`).
    case plan = 4
    /// The last worker's answer to a plan, relayed up (`tag` 1: applied, 0: refused).
    case planned = 5
    /// A worker's next neighbour is gone (`tag`: that neighbour's segment), relayed up.
    case down = 6

    /// Kinds whose payload is UTF-8 text and that carry no tensors.
    public var isText: Bool { self != .features && self != .result }
  }

  public static let magic: [UInt8] = Array("AMDI".utf8)
  public static let version: UInt8 = 1
  public static let headerBytes = 24
  /// Largest payload a reader accepts (a corrupt length must not make it allocate gigabytes).
  public static let maxPayloadBytes = 64 << 20
  public static let maxRank = 8

  public var kind: Kind
  public var taskId: UInt64
  public var tag: UInt16
  /// Features: the index of the operating point (threshold set) the task runs with.
  public var point: UInt16 = 0
  public var encoding: FeatureEncoding
  public var tensors: [Tensor]
  /// Failure frames: why the task failed.
  public var message: String

  public init(
    kind: Kind, taskId: UInt64, tag: UInt16 = 0, point: UInt16 = 0, encoding: FeatureEncoding = .float32,
    tensors: [Tensor] = [], message: String = ""
  ) {
    self.kind = kind
    self.taskId = taskId
    self.tag = tag
    self.point = point
    self.encoding = encoding
    self.tensors = tensors
    self.message = message
  }

  public static func failure(taskId: UInt64, _ message: String) -> Frame {
    Frame(kind: .failure, taskId: taskId, message: message)
  }

  /// A control frame (plan, planned, down): no task, text payload.
  public static func control(_ kind: Kind, tag: Int, _ message: String) -> Frame {
    Frame(kind: kind, taskId: UInt64.max, tag: UInt16(clamping: tag), message: message)
  }
}

extension FeatureEncoding {
  var wireCode: UInt8 { self == .float32 ? 0 : 1 }
  init?(wireCode: UInt8) {
    switch wireCode {
    case 0: self = .float32
    case 1: self = .int8
    default: return nil
    }
  }
}

/// Symmetric 8-bit quantisation of a whole tensor: `scale = max|x| / 127` (1 when all zero),
/// `q = round(x / scale)` clamped to [−127, 127], read back as `q · scale`.
public enum FeatureQuantizer {
  public static func quantize(_ t: Tensor) -> (scale: Float, values: [Int8]) {
    let m = t.scalars.reduce(Float(0)) { max($0, abs($1)) }
    let scale: Float = m > 0 && m.isFinite ? m / 127 : 1
    let values = t.scalars.map { Int8(max(-127, min(127, ($0 / scale).rounded()))) }
    return (scale, values)
  }

  public static func dequantize(shape: [Int], scale: Float, values: [Int8]) -> Tensor {
    Tensor(shape: shape, scalars: values.map { Float($0) * scale })
  }
}

/// CRC-32 (IEEE 802.3 polynomial, reflected): zlib's `crc32`, with a plain table-driven
/// reference beside it (`reference`, held equal by a test).
public enum CRC32 {
  public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    bytes.withUnsafeBufferPointer { p in
      var c = crc32(0, nil, 0)
      var base = p.baseAddress
      var left = p.count
      while left > 0, let b = base {
        let n = min(left, Int(UInt32.max))
        c = crc32(c, b, uInt(n))
        base = b + n
        left -= n
      }
      return UInt32(c)
    }
  }

  public static func checksum(_ bytes: [UInt8]) -> UInt32 { checksum(bytes[...]) }

  static let table: [UInt32] = (0..<256).map { n in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }

  /// Byte at a time, the textbook way.
  public static func reference<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
  }
}
