import AdaProfile

/// `lut.json` (and the same rows as `lut.csv`): one row per variant × device × context, what the
/// runtime's selector reads. Energy is always modelled (no RAPL/powercap here); `source` says
/// whether the latency was measured on this host or modelled for another device.
public struct LookupTable: Codable, Hashable, Sendable {
  public static let currentFormatVersion = 1
  public static let formatName = "adascale-lut"

  public var format: String = LookupTable.formatName
  public var formatVersion: Int = LookupTable.currentFormatVersion
  /// Always true today: energy comes from the device power models (docs/profiler.md).
  public var energyModelled = true
  public var rows: [Row]

  public init(rows: [Row]) { self.rows = rows }

  enum CodingKeys: String, CodingKey {
    case format, formatVersion = "format_version", energyModelled = "energy_modelled", rows
  }

  public struct Row: Codable, Hashable, Sendable {
    /// Manifest variant id.
    public var variant: String
    public var device: String
    /// `measured` (host, at the nominal context) or `modelled`.
    public var source: String
    /// Manifest context name.
    public var context: String
    public var latencyMs: Double
    public var latencyStdMs: Double
    public var energyMj: Double
    /// Weights + peak live activations at batch 1, bytes.
    public var memoryBytes: Int
    /// Test accuracy, 0–1 (the same on every device).
    public var accuracy: Double
    /// Whether the variant fits the context's memory (and the device's).
    public var feasible: Bool

    public init(
      variant: String, device: String, source: String, context: String, latencyMs: Double,
      latencyStdMs: Double, energyMj: Double, memoryBytes: Int, accuracy: Double, feasible: Bool
    ) {
      self.variant = variant
      self.device = device
      self.source = source
      self.context = context
      self.latencyMs = latencyMs
      self.latencyStdMs = latencyStdMs
      self.energyMj = energyMj
      self.memoryBytes = memoryBytes
      self.accuracy = accuracy
      self.feasible = feasible
    }

    enum CodingKeys: String, CodingKey {
      case variant, device, source, context, latencyMs = "latency_ms", latencyStdMs = "latency_std_ms"
      case energyMj = "energy_mj", memoryBytes = "memory_bytes", accuracy, feasible
    }
  }
}
