import AdaCore
import AdaTensor
import CGzip
import Foundation

/// Reader for IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or plain, read
/// directly with zlib (`gzread` passes uncompressed files through unchanged).
///
/// Layout: two zero bytes, a type byte (`0x08` = unsigned byte, the only type adascale reads), a
/// dimension count, each dimension as a big-endian UInt32, then the elements row-major.
///
///     let (dims, bytes) = try IDXFile.read(path: "train-images-idx3-ubyte.gz")   // [60000, 28, 28]
public enum IDXFile {
  /// Largest element count accepted (guards against a corrupt header asking for terabytes).
  static let maxElements = 1 << 31

  public static func read(path: String) throws(AdaError) -> (dims: [Int], bytes: [UInt8]) {
    guard FileManager.default.fileExists(atPath: path) else {
      throw AdaError(.fileNotFound, file: path, "IDX file does not exist")
    }
    guard let gz = gzopen(path, "rb") else {
      throw AdaError(.fileNotFound, file: path, "cannot open IDX file")
    }
    defer { gzclose(gz) }
    gzbuffer(gz, 1 << 17)

    func readExactly(_ count: Int, _ what: String) throws(AdaError) -> [UInt8] {
      var out = [UInt8](repeating: 0, count: count)
      var filled = 0
      while filled < count {
        let chunk = UInt32(min(count - filled, 1 << 30))
        let n = out.withUnsafeMutableBytes { gzread(gz, $0.baseAddress! + filled, chunk) }
        if n < 0 {
          var code: Int32 = 0
          let reason = gzerror(gz, &code).map { String(cString: $0) } ?? "zlib error \(code)"
          throw AdaError(.badFormat, file: path, "cannot decompress IDX data: \(reason)")
        }
        if n == 0 {
          throw AdaError(
            .badFormat, file: path,
            "file ends inside the \(what): got \(filled) of \(count) bytes (truncated download?)")
        }
        filled += Int(n)
      }
      return out
    }

    let magic = try readExactly(4, "header")
    guard magic[0] == 0, magic[1] == 0 else {
      throw AdaError(
        .badFormat, file: path,
        "not an IDX file: magic starts \(String(format: "%02x %02x", magic[0], magic[1])), expected 00 00")
    }
    guard magic[2] == 0x08 else {
      throw AdaError(
        .unsupported, file: path,
        "IDX element type 0x\(String(format: "%02x", magic[2])) is not supported (only 0x08, unsigned bytes)")
    }
    let rank = Int(magic[3])
    guard (1...4).contains(rank) else {
      throw AdaError(.badFormat, file: path, "IDX header gives \(rank) dimensions, expected 1 to 4")
    }
    let header = try readExactly(4 * rank, "dimension list")
    var dims: [Int] = []
    for d in 0..<rank {
      dims.append(header[(4 * d)..<(4 * d + 4)].reduce(0) { $0 << 8 | Int($1) })
    }
    let count = dims.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
    guard count <= maxElements else {
      throw AdaError(.badFormat, file: path, "IDX dimensions \(dims) are implausibly large (corrupt header?)")
    }
    // Before allocating: gzip expands at most about 1032:1, so the file cannot hold more.
    let fileBytes = FileStatus.size(path) ?? Int.max
    guard fileBytes > Int.max / 1032 || count <= fileBytes * 1032 else {
      throw AdaError(
        .badFormat, file: path,
        "IDX dimensions \(dims) announce \(count) bytes, more than the \(fileBytes)-byte file can hold even compressed; the header is corrupt"
      )
    }
    let bytes = try readExactly(count, "data")
    var extra: UInt8 = 0
    if gzread(gz, &extra, 1) > 0 {
      throw AdaError(
        .badFormat, file: path, "file has data after the \(count) elements its header \(dims) announces")
    }
    return (dims, bytes)
  }
}
