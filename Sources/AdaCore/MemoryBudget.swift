import AdaTensor
import Foundation

/// A size in bytes as people write it, and how much memory the machine has free: how many bytes
/// of examples a dataset split may hold in memory before it is streamed from its
/// file instead (recipe `dataset.max-memory`, CLI `--max-memory`). Written `2GB`, `512MB`,
/// `1.5GiB`, `800KB` or a plain byte count (`K`/`M`/`G`/`T`, with or without `B`; powers of 1024).
///
/// The default is half of the machine's `MemAvailable` (`/proc/meminfo`) when the split is
/// loaded — the other half is left to the model, its activations and the other split — or
/// 2 GiB when that cannot be read.
///
///     try MemoryBudget.parse("2GB")     // 2_147_483_648
public enum MemoryBudget {
  static let units: [(suffix: String, factor: Double)] = [
    ("TIB", 0x1p40), ("GIB", 0x1p30), ("MIB", 0x1p20), ("KIB", 0x1p10),
    ("TB", 0x1p40), ("GB", 0x1p30), ("MB", 0x1p20), ("KB", 0x1p10),
    ("T", 0x1p40), ("G", 0x1p30), ("M", 0x1p20), ("K", 0x1p10), ("B", 1),
  ]

  /// Bytes written as `2GB`; `.invalidValue` (no location: callers add the key or option).
  public static func parse(_ text: String) throws(AdaError) -> Int {
    let s = text.trimmingCharacters(in: .whitespaces).uppercased()
    var number = Substring(s)
    var factor = 1.0
    if let unit = units.first(where: { s.hasSuffix($0.suffix) }) {
      number = s.dropLast(unit.suffix.count)
      factor = unit.factor
    }
    guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0,
      value * factor >= 1, value * factor < 1e18
    else {
      throw AdaError(
        .invalidValue, "expected a size such as 2GB, 512MB or 1048576 (bytes), found '\(text)'")
    }
    return Int(value * factor)
  }

  /// `2.0 GB`-style text for reports (powers of 1024).
  public static func format(_ bytes: Int) -> String {
    for (suffix, factor) in [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)] where bytes >= factor {
      return String(format: "%.1f", Double(bytes) / Double(factor)) + " " + suffix
    }
    return "\(bytes) B"
  }

  /// Half of `MemAvailable`, or 2 GiB when `/proc/meminfo` cannot be read.
  public static var defaultLimit: Int {
    guard let available = memAvailable() else { return 2 << 30 }
    return available / 2
  }

  /// `MemAvailable` of `/proc/meminfo` in bytes.
  static func memAvailable(_ meminfo: String? = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8))
    -> Int?
  {
    guard let text = meminfo,
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") })
    else { return nil }
    let fields = line.split(separator: " ")
    guard fields.count >= 2, let kB = Int(fields[1]) else { return nil }
    return kB * 1024
  }
}
