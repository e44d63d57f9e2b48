import AdaIO

extension Manifest {
  /// One file a variant ships as, hashed: the bundle writer lists every file it wrote for the
  /// variant (`variants/v03.h5`, `variants/v03.onnx`, `variants/v03_exits.h5`,
  /// `variants/v03_exits.onnx`), so an app can check what it downloaded.
  ///
  ///     {"file": "variants/v03.onnx", "format": "onnx", "exits": false, "sha256": "9f2c…"}
  public struct VariantFile: Codable, Hashable, Sendable {
    /// Path relative to the bundle.
    public var file: String
    public var format: ModelFileFormat
    /// Whether it is the multi-exit model (outputs: the exits, then the variant's own output).
    public var exits: Bool
    /// SHA-256 of the file's bytes, hex.
    public var sha256: String

    public init(file: String, format: ModelFileFormat, exits: Bool, sha256: String) {
      self.file = file
      self.format = format
      self.exits = exits
      self.sha256 = sha256
    }
  }
}

extension Manifest.Variant {
  /// The variant's file in `format`: `file` with its extension replaced (`variants/v03.onnx`).
  public func file(_ format: ModelFileFormat) -> String { Self.replacingExtension(file, format) }

  /// `path` (ending in `.h5`) with `format`'s extension.
  public static func replacingExtension(_ path: String, _ format: ModelFileFormat) -> String {
    let stem = path.hasSuffix(".h5") ? String(path.dropLast(3)) : path
    return stem + format.fileExtension
  }
}
