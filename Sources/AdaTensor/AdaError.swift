/// The one error type users of adascale see. Every error that comes from a file or user input
/// says *where* (file, HDF5 path, YAML key, layer name) and *what* (expected vs found).
/// Only the CLI turns these into exit codes and adds a hint.
///
///     throw AdaError(.badShape, file: "m.h5", path: "model_weights/dense/kernel",
///                    "expected [784, 128], found [784, 64]")
public struct AdaError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
  public enum Kind: String, Sendable, Codable {
    /// The file does not exist or cannot be opened.
    case fileNotFound
    /// The file exists but is not the format it should be (not HDF5, truncated, bad zip).
    case badFormat
    /// A layer class or option adascale does not implement.
    case unsupported
    /// A required weight, attribute, key or dataset is absent.
    case missing
    /// A tensor's shape differs from what the model or command needs.
    case badShape
    /// NaN or infinite values where finite numbers are required.
    case nonFinite
    /// A value is out of range or malformed (recipe field, CLI option, config entry).
    case invalidValue
    /// Writing an output failed.
    case writeFailed
    /// A bug in adascale rather than in the input.
    case internalError
  }

  public var kind: Kind
  /// File the problem is in, when there is one.
  public var file: String?
  /// Location inside the file or model: HDF5 path, layer name, YAML key.
  public var path: String?
  public var message: String
  /// A suggestion for the user; the CLI prints it as `hint:`.
  public var hint: String?

  public init(
    _ kind: Kind, file: String? = nil, path: String? = nil, _ message: String, hint: String? = nil
  ) {
    self.kind = kind
    self.file = file
    self.path = path
    self.message = message
    self.hint = hint
  }

  public var description: String {
    var where_ = ""
    if let file { where_ += file }
    if let path { where_ += where_.isEmpty ? path : ": \(path)" }
    return where_.isEmpty ? message : "\(where_): \(message)"
  }

  /// The same error, with the file filled in when it was not known where it was thrown.
  public func inFile(_ file: String) -> AdaError {
    var e = self
    if e.file == nil { e.file = file }
    return e
  }

  /// The same error, with a path prefix (e.g. the layer that contains the failing weight).
  public func at(_ prefix: String) -> AdaError {
    var e = self
    e.path = e.path.map { "\(prefix)/\($0)" } ?? prefix
    return e
  }
}
