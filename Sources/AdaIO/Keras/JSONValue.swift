import AdaTensor
import Foundation

/// A JSON value whose objects keep their key order, so configs we write are deterministic and
/// read like Keras's own. Used only for Keras model configs.
///
///     let config = try JSONValue.parse(text, file: "m.h5", path: "model_config")
///     config["config"]?["layers"]?.array?.count
public indirect enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([Member])

  public struct Member: Sendable, Equatable {
    public var key: String
    public var value: JSONValue
    public init(_ key: String, _ value: JSONValue) {
      self.key = key
      self.value = value
    }
  }

  /// An object from key/value pairs, in the given order.
  public static func object(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
    .object(pairs.map { Member($0.key, $0.value) })
  }

  /// A number written as the shortest decimal that reads back as the same `Float`
  /// (`Float(0.001)` is written `0.001`, not `0.0010000000474974513`).
  public static func decimal(_ x: Float) -> JSONValue { .number(Double(x.description) ?? Double(x)) }

  public static func int(_ x: Int) -> JSONValue { .number(Double(x)) }
  public static func ints(_ xs: [Int]) -> JSONValue { .array(xs.map { .int($0) }) }

  // MARK: Access

  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.key == key }?.value
  }

  public var array: [JSONValue]? {
    if case .array(let a) = self { return a }
    return nil
  }
  public var string: String? {
    if case .string(let s) = self { return s }
    return nil
  }
  public var double: Double? {
    if case .number(let x) = self { return x }
    return nil
  }
  /// The number as an Int, when it is integral.
  public var int: Int? {
    guard case .number(let x) = self, x.rounded() == x, abs(x) < 1e15 else { return nil }
    return Int(x)
  }
  public var bool: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }
  public var isNull: Bool { self == .null }
  public var keys: [String] {
    if case .object(let m) = self { return m.map(\.key) }
    return []
  }

  // MARK: Parsing

  /// Parses JSON text (see `JSONParser`); malformed text is `.badFormat` naming `file` and `path`.
  public static func parse(_ text: String, file: String?, path: String?) throws(AdaError) -> JSONValue {
    var parser = JSONParser(Array(text.utf8))
    do throws(JSONParser.Failure) {
      return try parser.parseDocument()
    } catch {
      throw AdaError(
        .badFormat, file: file, path: path,
        "is not valid JSON: \(error.reason) at byte \(error.offset)")
    }
  }

  // MARK: Writing

  /// Compact JSON text, keys in stored order, like Python's `json.dumps` (`", "` and `": "`).
  public var text: String {
    var out = ""
    write(to: &out)
    return out
  }

  private func write(to out: inout String) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .number(let x):
      if x.rounded() == x && abs(x) < 1e15 {
        out += String(Int(x))
      } else {
        out += "\(x)"
      }
    case .string(let s): JSONValue.quote(s, into: &out)
    case .array(let a):
      out += "["
      for (i, v) in a.enumerated() {
        if i > 0 { out += ", " }
        v.write(to: &out)
      }
      out += "]"
    case .object(let members):
      out += "{"
      for (i, m) in members.enumerated() {
        if i > 0 { out += ", " }
        JSONValue.quote(m.key, into: &out)
        out += ": "
        m.value.write(to: &out)
      }
      out += "}"
    }
  }

  private static func quote(_ s: String, into out: inout String) {
    out += "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 {
          out += String(format: "\\u%04x", u.value)
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    out += "\""
  }
}
