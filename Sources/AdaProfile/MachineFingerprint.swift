import AdaCore
import AdaTensor
import Foundation

/// What a latency measurement depends on besides the op: the CPU, the BLAS kernels, the thread
/// count and the adascale version. Cached measurements are valid only for an equal fingerprint.
public struct MachineFingerprint: Codable, Hashable, Sendable {
  /// `model name` from /proc/cpuinfo (or "unknown").
  public var cpuModel: String
  /// OpenBLAS kernel family, e.g. "Cooperlake".
  public var blasCore: String
  /// OpenBLAS threads and `Parallel.workers` used while timing.
  public var threads: Int
  public var version: String
  /// The device this host was profiled as (`adascale profile --as-device`), nil for the host
  /// itself: two devices of a farm keep apart caches even where their CPUs read the same.
  public var device: String?

  public init(cpuModel: String, blasCore: String, threads: Int, version: String, device: String? = nil) {
    self.cpuModel = cpuModel
    self.blasCore = blasCore
    self.threads = threads
    self.version = version
    self.device = device
  }

  /// This machine, timing with `threads` threads, for adascale `version`.
  public static func current(threads: Int, version: String) -> MachineFingerprint {
    MachineFingerprint(
      cpuModel: HostInfo.cpuModel, blasCore: BLAS.coreName, threads: threads, version: version)
  }

  /// Stable short id (FNV-1a 64 of the fields), used in cache file names.
  public var id: String {
    let text = ([cpuModel, blasCore, String(threads), version] + (device.map { [$0] } ?? [])).joined(
      separator: "\u{1F}")
    return String(StableHasher.hash(bytes: text.utf8), radix: 16)
  }

  enum CodingKeys: String, CodingKey {
    case cpuModel = "cpu_model"
    case blasCore = "blas_core"
    case threads, version, device
  }
}

/// Facts read from the host's /proc files; a missing source gives "unknown" or nil, never a crash.
public enum HostInfo {
  public static var cpuModel: String { cpuinfoField("model name") ?? "unknown" }

  /// Current clock of the first CPU in GHz (`cpu MHz` in /proc/cpuinfo), if known.
  public static var clockGHz: Double? { cpuinfoField("cpu MHz").flatMap(Double.init).map { $0 / 1000 } }

  static func cpuinfoField(_ name: String) -> String? {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
        return parts[1].trimmingCharacters(in: .whitespaces)
      }
    }
    return nil
  }
}
