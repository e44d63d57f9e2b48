import AdaCore
import AdaIO
import AdaNN
import AdaTensor
import Foundation

/// Measurements kept on disk between runs, for one machine fingerprint: per-op latencies keyed
/// by signature, end-to-end latencies keyed by graph hash, the host's peak/bandwidth probes and
/// the dispatch-overhead calibration.
///
/// One JSON file per fingerprint, `<directory>/latency-<fingerprint.id>.json`, written atomically.
/// A file whose recorded fingerprint differs from the current one (another CPU, thread count,
/// BLAS build or adascale version), or written by another version of the timing method, is
/// ignored and replaced on the next save.
public struct LatencyCache: Sendable {
  public struct Contents: Codable, Sendable {
    public var format = "adascale-latency-cache"
    /// Bumped whenever the way things are timed changes (2: allocator tuning before timing;
    /// 3: buffers relocated every round; 4: context terms calibrated in a graph).
    public var version = Contents.currentVersion
    public static let currentVersion = 4
    public var fingerprint: MachineFingerprint
    public var ops: [String: LatencyStats] = [:]
    // Whole-model timings are not kept: a model is timed afresh in every run that reports it
    // measured (a cached one had frozen one loaded moment into later bundles: the `models` key
    // of older files is ignored).
    public var host: HostMeasurements?
    public var overhead: DispatchOverhead?

    public init(fingerprint: MachineFingerprint) { self.fingerprint = fingerprint }
  }

  /// Where the file lives; nil keeps everything in memory.
  public let directory: String?
  public let fingerprint: MachineFingerprint
  public var contents: Contents
  /// Whether the file existed and matched the fingerprint when opened.
  public let loadedFromDisk: Bool

  /// Opens the cache for `fingerprint` in `directory` (created on save). An unreadable or
  /// mismatching file counts as empty.
  public init(directory: String?, fingerprint: MachineFingerprint) {
    self.directory = directory
    self.fingerprint = fingerprint
    var loaded: Contents?
    if let directory {
      let path = Self.path(directory: directory, fingerprint: fingerprint)
      if let data = FileManager.default.contents(atPath: path),
        let c = try? JSONDecoder().decode(Contents.self, from: data), c.fingerprint == fingerprint,
        c.version == Contents.currentVersion
      {
        loaded = c
      }
    }
    contents = loaded ?? Contents(fingerprint: fingerprint)
    loadedFromDisk = loaded != nil
  }

  public static func path(directory: String, fingerprint: MachineFingerprint) -> String {
    URL(fileURLWithPath: directory).appendingPathComponent("latency-\(fingerprint.id).json").path
  }

  public var path: String? { directory.map { Self.path(directory: $0, fingerprint: fingerprint) } }

  /// `$ADASCALE_CACHE_DIR/profile` when set (one variable a CI runner caches; docs/ci.md), else
  /// `$XDG_CACHE_HOME/adascale/profile`, else `~/.cache/adascale/profile`.
  public static var defaultDirectory: String {
    let env = ProcessInfo.processInfo.environment
    if let dir = env["ADASCALE_CACHE_DIR"], !dir.isEmpty {
      return URL(fileURLWithPath: dir).appendingPathComponent("profile").path
    }
    let base =
      env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
      ?? URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache").path
    return URL(fileURLWithPath: base).appendingPathComponent("adascale/profile").path
  }

  /// Writes the contents atomically (no-op for an in-memory cache).
  public func save() throws(AdaError) {
    guard let directory, let path else { return }
    do {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw AdaError(.writeFailed, file: directory, "cannot create the cache directory: \(error)")
    }
    let data = try Self.encode(contents, path: path)
    try AtomicFile.write(data, to: path, what: "the latency cache")
  }

  static func encode(_ value: some Encodable, path: String) throws(AdaError) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    do {
      return try encoder.encode(value)
    } catch {
      throw AdaError(.internalError, file: path, "cannot encode JSON: \(error)")
    }
  }
}

extension Graph {
  /// Stable hash of the architecture (FNV-1a of its key-sorted JSON), for caching whole-model
  /// measurements. Weights do not enter: latency does not depend on their values.
  public var stableHash: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let data = (try? encoder.encode(self)) ?? Data()
    return String(StableHasher.hash(bytes: data), radix: 16)
  }
}
