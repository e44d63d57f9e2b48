import AdaTensor
import Crypto
import Foundation

/// SHA-256 of a bundle's files, the source model and the recipe (the content hashes a manifest
/// records), computed by swift-crypto. A thin streaming wrapper so that callers deal in hex
/// strings and `AdaError`s.
///
///     let digest = try SHA256.hex(file: "bundle/variants/v01.h5")   // 64 lower-case hex digits
public struct SHA256 {
  private var hasher = Crypto.SHA256()

  public init() {}

  public mutating func update(_ bytes: some Sequence<UInt8>) {
    if let data = bytes as? Data {
      hasher.update(data: data)
    } else {
      hasher.update(data: Array(bytes))
    }
  }

  /// The digest as 64 lower-case hex digits.
  public func hexDigest() -> String {
    hasher.finalize().map { String(format: "%02x", $0) }.joined()
  }

  /// SHA-256 of a string's UTF-8 bytes.
  public static func hex(_ text: String) -> String {
    var h = SHA256()
    h.update(Data(text.utf8))
    return h.hexDigest()
  }

  /// SHA-256 of a file's bytes.
  public static func hex(file path: String) throws(AdaError) -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw AdaError(.fileNotFound, file: path, "cannot read the file to hash it")
    }
    var h = SHA256()
    h.update(data)
    return h.hexDigest()
  }
}
