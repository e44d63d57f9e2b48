/// A small recursive-descent JSON parser (RFC 8259) that keeps object keys in document order.
/// Also accepts Python's `NaN`, `Infinity` and `-Infinity`, which `json.dumps` can emit.
struct JSONParser {
  struct Failure: Error {
    var reason: String
    var offset: Int
  }

  private let bytes: [UInt8]
  private var i = 0
  private var depth = 0
  private static let maxDepth = 512

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  /// One value, then only whitespace.
  mutating func parseDocument() throws(Failure) -> JSONValue {
    let v = try value()
    skipSpace()
    guard i == bytes.count else { throw fail("unexpected trailing characters") }
    return v
  }

  private func fail(_ reason: String) -> Failure { Failure(reason: reason, offset: i) }

  private mutating func skipSpace() {
    while i < bytes.count, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[i]) { i += 1 }
  }

  private mutating func literal(_ word: String) -> Bool {
    let w = Array(word.utf8)
    guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { return false }
    i += w.count
    return true
  }

  private mutating func value() throws(Failure) -> JSONValue {
    skipSpace()
    guard i < bytes.count else { throw fail("unexpected end of text") }
    switch bytes[i] {
    case UInt8(ascii: "{"): return try object()
    case UInt8(ascii: "["): return try array()
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): if literal("true") { return .bool(true) }
    case UInt8(ascii: "f"): if literal("false") { return .bool(false) }
    case UInt8(ascii: "n"): if literal("null") { return .null }
    case UInt8(ascii: "N"): if literal("NaN") { return .number(.nan) }
    case UInt8(ascii: "I"): if literal("Infinity") { return .number(.infinity) }
    default: return .number(try number())
    }
    throw fail("unexpected character")
  }

  private mutating func enter() throws(Failure) {
    depth += 1
    guard depth <= Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
  }

  private mutating func object() throws(Failure) -> JSONValue {
    try enter()
    defer { depth -= 1 }
    i += 1
    var members: [JSONValue.Member] = []
    skipSpace()
    if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
      i += 1
      return .object(members)
    }
    while true {
      skipSpace()
      guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
      let key = try string()
      skipSpace()
      guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
      i += 1
      members.append(JSONValue.Member(key, try value()))
      skipSpace()
      guard i < bytes.count else { throw fail("unterminated object") }
      if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
      if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
      throw fail("expected ',' or '}'")
    }
  }

  private mutating func array() throws(Failure) -> JSONValue {
    try enter()
    defer { depth -= 1 }
    i += 1
    var items: [JSONValue] = []
    skipSpace()
    if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
      i += 1
      return .array(items)
    }
    while true {
      items.append(try value())
      skipSpace()
      guard i < bytes.count else { throw fail("unterminated array") }
      if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
      if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
      throw fail("expected ',' or ']'")
    }
  }

  private mutating func hex4() throws(Failure) -> UInt32 {
    guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16)
    else { throw fail("bad \\u escape") }
    i += 4
    return v
  }

  private mutating func string() throws(Failure) -> String {
    i += 1
    var out: [UInt8] = []
    while i < bytes.count {
      let c = bytes[i]
      i += 1
      if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
      guard c == UInt8(ascii: "\\") else { out.append(c); continue }
      guard i < bytes.count else { break }
      let e = bytes[i]
      i += 1
      switch e {
      case UInt8(ascii: "n"): out.append(0x0a)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "r"): out.append(0x0d)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0c)
      case UInt8(ascii: "u"):
        var scalar = try hex4()
        if (0xD800..<0xDC00).contains(scalar), literal("\\u") {
          let low = try hex4()
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low &- 0xDC00)
        }
        out += Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
      default: out.append(e)
      }
    }
    throw fail("unterminated string")
  }

  private mutating func number() throws(Failure) -> Double {
    let start = i
    if literal("-Infinity") { return -.infinity }
    while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
    guard i > start, let x = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else {
      i = start
      throw fail("expected a value")
    }
    return x
  }
}
