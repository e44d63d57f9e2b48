import AdaCore
import AdaNN
import AdaTensor
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Everything needed to continue a run bit-identically: parameters (non-trainable ones too),
/// optimizer state, position, the running sums of the current epoch, the finished epochs'
/// reports, and the config hash it belongs to.
///
/// The RNG state is the run seed plus the position: every random stream is a pure function of
/// `(seed, stream, epoch, step)` (`RandomStream`), so nothing else needs saving.
///
/// ## File format (`checkpoint.adackpt`, version 1)
///
///     offset 0    8 bytes   magic "ADACKPT1"
///     offset 8    UInt32    format version, little-endian (1)
///     offset 12   UInt32    header length H, little-endian
///     offset 16   H bytes   header, UTF-8 JSON (`Header` below)
///     offset 16+H           data: the tensors of `header.tensors`, in that order, each
///                           `count` Float32 little-endian, back to back (`offset` is relative to
///                           the start of the data)
///
/// The header also records `dataBytes` (the file must be exactly `16 + H + dataBytes` long) and
/// a `checksum` (`StableHasher` over the tensors' scalars, in order). Writing is atomic: a
/// temporary file in the same directory, `fsync`, then `rename` over the old checkpoint, so a
/// crash leaves either the old or the new file, never a partial one.
public struct Checkpoint: Sendable, Equatable {
  public static let magic = Array("ADACKPT1".utf8)
  public static let formatVersion: UInt32 = 1
  /// The file name inside a checkpoint directory.
  public static let fileName = "checkpoint.adackpt"

  public var configHash: String
  public var seed: UInt64
  /// The next step to run.
  public var position: TrainingPosition
  /// Running sums of the epoch in progress (so its report comes out as without interruption).
  public var epochProgress: EpochProgress
  /// Reports of the finished epochs.
  public var history: [EpochReport]
  public var optimizerKind: String
  public var optimizer: OptimizerState
  public var parameters: Parameters

  public init(
    configHash: String, seed: UInt64, position: TrainingPosition, epochProgress: EpochProgress,
    history: [EpochReport], optimizerKind: String, optimizer: OptimizerState, parameters: Parameters
  ) {
    self.configHash = configHash
    self.seed = seed
    self.position = position
    self.epochProgress = epochProgress
    self.history = history
    self.optimizerKind = optimizerKind
    self.optimizer = optimizer
    self.parameters = parameters
  }

  /// The checkpoint file of a checkpoint directory.
  public static func url(in directory: URL) -> URL { directory.appendingPathComponent(fileName) }

  // MARK: Writing

  /// Writes atomically to `url` (replacing any file there); creates the directory if needed.
  public func write(to url: URL) throws(AdaError) {
    try write(to: url, failAfterBytes: nil)
  }

  /// `failAfterBytes` simulates a failing disk (tests of atomicity).
  func write(to url: URL, failAfterBytes: Int?) throws(AdaError) {
    let (header, tensors) = try encodeHeader()
    let dir = url.deletingLastPathComponent()
    do {
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    } catch {
      throw AdaError(
        .writeFailed, file: dir.path, "cannot create the checkpoint directory: \(error.localizedDescription)")
    }
    let tmp = dir.appendingPathComponent(
      ".\(url.lastPathComponent).tmp-\(getpid())-\(UUID().uuidString.prefix(8))")
    let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard fd >= 0 else {
      throw AdaError(
        .writeFailed, file: tmp.path, "cannot create a temporary file: \(String(cString: strerror(errno)))")
    }
    var sink = FileSink(fd: fd, budget: failAfterBytes)
    var prefix = Self.magic
    withUnsafeBytes(of: Self.formatVersion.littleEndian) { prefix += $0 }
    withUnsafeBytes(of: UInt32(header.count).littleEndian) { prefix += $0 }
    var ok = prefix.withUnsafeBytes { sink.write($0) } && header.withUnsafeBytes { sink.write($0) }
    for t in tensors where ok {
      ok = t.scalars.withUnsafeBufferPointer { p in
        #if _endian(little)
          return sink.write(UnsafeRawBufferPointer(p))
        #else
          return p.map { $0.bitPattern.littleEndian }.withUnsafeBytes { sink.write($0) }
        #endif
      }
    }
    ok = ok && fsync(fd) == 0
    let reason = ok ? "" : String(cString: strerror(sink.error != 0 ? sink.error : errno))
    close(fd)
    guard ok, rename(tmp.path, url.path) == 0 else {
      let why = ok ? String(cString: strerror(errno)) : reason
      unlink(tmp.path)
      throw AdaError(.writeFailed, file: url.path, "writing the checkpoint failed: \(why)")
    }
    let dirFD = open(dir.path, O_RDONLY)
    if dirFD >= 0 {
      fsync(dirFD)  // make the rename durable; best effort
      close(dirFD)
    }
  }

  /// The JSON header and the tensors in data order.
  private func encodeHeader() throws(AdaError) -> (Data, [Tensor]) {
    var entries: [Header.TensorEntry] = []
    var tensors: [Tensor] = []
    var offset = 0
    var hasher = StableHasher()
    func add(_ t: Tensor, role: String, slot: String?, key: String) {
      entries.append(.init(role: role, slot: slot, key: key, shape: t.shape, offset: offset, count: t.count))
      tensors.append(t)
      offset += t.count * 4
      hasher.combine(t.scalars)
    }
    for key in parameters.keys { add(parameters.tensors[key]!, role: "parameter", slot: nil, key: key) }
    for slot in optimizer.slots.keys.sorted() {
      let store = optimizer.slots[slot]!
      for key in store.keys { add(store.tensors[key]!, role: "slot", slot: slot, key: key) }
    }
    let header = Header(
      configHash: configHash, seed: String(seed), position: position, epochProgress: epochProgress,
      history: history, optimizer: .init(kind: optimizerKind, iterations: optimizer.iterations),
      tensors: entries, dataBytes: offset, checksum: hasher.hexDigest)
    do {
      return (try Self.jsonEncoder().encode(header), tensors)
    } catch {
      throw AdaError(.internalError, "cannot encode the checkpoint header: \(error)")
    }
  }

  static func jsonEncoder() -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    e.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return e
  }

  static func jsonDecoder() -> JSONDecoder {
    let d = JSONDecoder()
    d.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return d
  }

  /// The JSON header of the file format.
  struct Header: Codable {
    struct TensorEntry: Codable {
      var role: String
      var slot: String?
      var key: String
      var shape: [Int]
      var offset: Int
      var count: Int
    }
    struct OptimizerEntry: Codable {
      var kind: String
      var iterations: Int
    }
    var configHash: String
    /// Decimal string: JSON numbers cannot carry every UInt64 exactly.
    var seed: String
    var position: TrainingPosition
    var epochProgress: EpochProgress
    var history: [EpochReport]
    var optimizer: OptimizerEntry
    var tensors: [TensorEntry]
    var dataBytes: Int
    var checksum: String
  }
}

/// Running sums of an epoch in progress.
public struct EpochProgress: Codable, Hashable, Sendable {
  /// Σ batch loss × batch size.
  public var lossSum: Double = 0
  public var correct: Int = 0
  public var seen: Int = 0
  /// Seconds spent in training steps (for images/s).
  public var trainSeconds: Double = 0
  /// Seconds since the epoch started (including any time before an interruption).
  public var elapsedSeconds: Double = 0

  public init() {}

  public var meanLoss: Double { seen == 0 ? 0 : lossSum / Double(seen) }
  public var accuracy: Double { seen == 0 ? 0 : Double(correct) / Double(seen) }
  public var imagesPerSecond: Double { trainSeconds > 0 ? Double(seen) / trainSeconds : 0 }
}

/// `write(2)` in a loop, with an optional byte budget after which it fails (tests).
private struct FileSink {
  let fd: Int32
  var budget: Int?
  var error: Int32 = 0

  mutating func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var done = 0
    while done < bytes.count {
      var n = bytes.count - done
      if let b = budget {
        if b == 0 {
          error = EIO
          return false
        }
        n = min(n, b)
      }
      let w = posixWrite(fd, bytes.baseAddress! + done, n)
      if w < 0 {
        if errno == EINTR { continue }
        error = errno
        return false
      }
      done += w
      if let b = budget { budget = b - w }
    }
    return true
  }
}

private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
