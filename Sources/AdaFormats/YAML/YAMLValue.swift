import AdaTensor
import Foundation
import Yams

/// A YAML node that knows where it came from, with typed accessors whose errors name the file,
/// the line and the key path (`layers[3].filters`). Used for architecture files and recipes.
///
///     let doc = try YAMLValue.load(path: "recipes/models/cnn.yaml")
///     let name = try doc["name"].string()          // error: "cnn.yaml:1: name: expected a string"
public struct YAMLValue {
  public let node: Node?
  /// Key path from the document root, e.g. `layers[2].conv2d.kernel`.
  public let keyPath: String
  public let file: String
  /// Line of the nearest node that exists (for errors about missing keys).
  public let line: Int?

  init(node: Node?, keyPath: String, file: String, line: Int?) {
    self.node = node
    self.keyPath = keyPath
    self.file = file
    self.line = node?.mark?.line ?? line
  }

  /// Parses a YAML file. A missing file or a syntax error is an `AdaError` naming the file.
  public static func load(path: String) throws(AdaError) -> YAMLValue {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw AdaError(.fileNotFound, file: path, "file not found or not readable")
    }
    return try parse(String(decoding: data, as: UTF8.self), file: path)
  }

  public static func parse(_ text: String, file: String) throws(AdaError) -> YAMLValue {
    do {
      let node = try Yams.compose(yaml: text)
      return YAMLValue(node: node, keyPath: "", file: file, line: 1)
    } catch let error as YamlError {
      throw AdaError(.badFormat, file: file, "not valid YAML: \(error)")
    } catch {
      throw AdaError(.badFormat, file: file, "not valid YAML: \(error)")
    }
  }

  // MARK: Navigation

  public var exists: Bool { node != nil && node?.null == nil }

  public subscript(key: String) -> YAMLValue {
    let child = node?.mapping?[key]
    return YAMLValue(node: child, keyPath: join(key), file: file, line: line)
  }

  /// The keys of a mapping, in document order.
  public var keys: [String] { node?.mapping?.keys.compactMap(\.string) ?? [] }

  /// Elements of a sequence; throws when the node is present but not a sequence.
  public func array() throws(AdaError) -> [YAMLValue] {
    guard exists else { return [] }
    guard let seq = node?.sequence else { throw mismatch("a list") }
    return seq.enumerated().map { i, n in
      YAMLValue(node: n, keyPath: "\(keyPath)[\(i)]", file: file, line: line)
    }
  }

  /// Key/value pairs of a mapping in document order; throws when present but not a mapping.
  public func entries() throws(AdaError) -> [(String, YAMLValue)] {
    guard exists else { return [] }
    guard let map = node?.mapping else { throw mismatch("a mapping") }
    return map.map { k, v in
      let key = k.string ?? "?"
      return (key, YAMLValue(node: v, keyPath: join(key), file: file, line: k.mark?.line ?? line))
    }
  }

  // MARK: Typed values

  public func string() throws(AdaError) -> String {
    guard exists else { throw missingError() }
    guard let s = node?.scalar?.string else { throw mismatch("a string") }
    return s
  }

  public func int() throws(AdaError) -> Int {
    guard exists else { throw missingError() }
    guard let v = node?.int else { throw mismatch("an integer") }
    return v
  }

  public func double() throws(AdaError) -> Double {
    guard exists else { throw missingError() }
    guard let v = node?.float else { throw mismatch("a number") }
    return v
  }

  public func bool() throws(AdaError) -> Bool {
    guard exists else { throw missingError() }
    guard let v = node?.bool else { throw mismatch("true or false") }
    return v
  }

  public func intArray() throws(AdaError) -> [Int] {
    try array().map { v throws(AdaError) in try v.int() }
  }

  public func string(default value: String) throws(AdaError) -> String { exists ? try string() : value }
  public func int(default value: Int) throws(AdaError) -> Int { exists ? try int() : value }
  public func double(default value: Double) throws(AdaError) -> Double { exists ? try double() : value }
  public func bool(default value: Bool) throws(AdaError) -> Bool { exists ? try bool() : value }

  // MARK: Errors

  /// An error located at this node: `file:line`, key path, message.
  public func error(_ message: String, kind: AdaError.Kind = .invalidValue) -> AdaError {
    AdaError(kind, file: line.map { "\(file):\($0)" } ?? file, path: keyPath.isEmpty ? nil : keyPath, message)
  }

  func missingError() -> AdaError { error("required key is missing", kind: .missing) }

  func mismatch(_ expected: String) -> AdaError {
    let found = node?.scalar.map { "'\($0.string)'" } ?? (node?.sequence != nil ? "a list" : "a mapping")
    return error("expected \(expected), found \(found)", kind: .invalidValue)
  }

  private func join(_ key: String) -> String { keyPath.isEmpty ? key : "\(keyPath).\(key)" }
}
