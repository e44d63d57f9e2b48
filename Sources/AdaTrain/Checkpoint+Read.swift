import AdaCore
import AdaNN
import AdaTensor
import Foundation

extension Checkpoint {
  /// The checkpoint in `directory`, or nil when there is none.
  public static func latest(in directory: URL) throws(AdaError) -> Checkpoint? {
    let url = url(in: directory)
    guard FileManager.default.fileExists(atPath: url.path) else { return nil }
    return try read(from: url)
  }

  /// Reads and verifies a checkpoint file (magic, version, sizes, checksum). Errors name the file
  /// and say what was expected and what was found.
  public static func read(from url: URL) throws(AdaError) -> Checkpoint {
    let file = url.path
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw AdaError(.fileNotFound, file: file, "cannot read the checkpoint: \(error.localizedDescription)")
    }
    func bad(_ message: String) -> AdaError { AdaError(.badFormat, file: file, message) }
    guard data.count >= 16 else { throw bad("expected at least 16 bytes, found \(data.count)") }
    let bytes = [UInt8](data)
    guard Array(bytes[0..<8]) == magic else {
      throw bad(
        "expected magic \"ADACKPT1\", found \(bytes[0..<8].map { String(format: "%02x", $0) }.joined()); not an adascale checkpoint"
      )
    }
    let version = u32(bytes, 8)
    guard version == formatVersion else {
      throw AdaError(
        .unsupported, file: file,
        "checkpoint format version \(version); this adascale reads version \(formatVersion)")
    }
    let headerLength = Int(u32(bytes, 12))
    guard 16 + headerLength <= bytes.count else {
      throw bad("header of \(headerLength) bytes runs past the end of the \(bytes.count)-byte file")
    }
    let header: Header
    do {
      header = try jsonDecoder().decode(Header.self, from: Data(bytes[16..<(16 + headerLength)]))
    } catch {
      throw bad("the JSON header does not decode: \(error)")
    }
    let dataStart = 16 + headerLength
    guard bytes.count == dataStart + header.dataBytes else {
      throw bad(
        "expected \(dataStart + header.dataBytes) bytes (header says \(header.dataBytes) data bytes), found \(bytes.count); the file is truncated or damaged"
      )
    }
    guard let seed = UInt64(header.seed) else {
      throw bad("seed \"\(header.seed)\" is not an unsigned integer")
    }

    var parameters = Parameters()
    var slots: [String: Parameters] = [:]
    var hasher = StableHasher()
    for entry in header.tensors {
      let path = entry.slot.map { "\($0)/\(entry.key)" } ?? entry.key
      guard entry.shape.allSatisfy({ $0 >= 0 }), entry.shape.elementCount == entry.count,
        entry.offset >= 0, entry.offset + entry.count * 4 <= header.dataBytes
      else {
        throw AdaError(
          .badFormat, file: file, path: path,
          "tensor entry is inconsistent (shape \(entry.shape), count \(entry.count), offset \(entry.offset))")
      }
      let t = Tensor(
        shape: entry.shape, scalars: floats(bytes, at: dataStart + entry.offset, count: entry.count))
      hasher.combine(t.scalars)
      switch (entry.role, entry.slot) {
      case ("parameter", nil): parameters.tensors[entry.key] = t
      case ("slot", let slot?): slots[slot, default: Parameters()].tensors[entry.key] = t
      default: throw AdaError(.badFormat, file: file, path: path, "unknown tensor role '\(entry.role)'")
      }
    }
    guard hasher.hexDigest == header.checksum else {
      throw bad(
        "checksum mismatch: header says \(header.checksum), data hashes to \(hasher.hexDigest); the file is damaged"
      )
    }
    return Checkpoint(
      configHash: header.configHash, seed: seed, position: header.position,
      epochProgress: header.epochProgress, history: header.history,
      optimizerKind: header.optimizer.kind,
      optimizer: OptimizerState(iterations: header.optimizer.iterations, slots: slots),
      parameters: parameters)
  }

  /// Throws unless this checkpoint was written by a run with the same configuration hash.
  public func checkConfigHash(_ expected: String, file: String) throws(AdaError) {
    guard configHash == expected else {
      throw AdaError(
        .invalidValue, file: file, path: "configHash",
        "the checkpoint belongs to a different training configuration (checkpoint \(configHash), this run \(expected)); model, data, batch size, optimizer, schedule, seed, split, augmentation, weight decay or teacher differ",
        hint:
          "train with the original settings, or remove the checkpoint (or run without resume) to start afresh"
      )
    }
  }

  private static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
    UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
  }

  private static func floats(_ b: [UInt8], at start: Int, count: Int) -> [Float] {
    var out = [Float](repeating: 0, count: count)
    b.withUnsafeBytes { raw in
      out.withUnsafeMutableBufferPointer { dst in
        for i in 0..<count {
          let bits = raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)
          dst[i] = Float(bitPattern: UInt32(littleEndian: bits))
        }
      }
    }
    return out
  }
}
