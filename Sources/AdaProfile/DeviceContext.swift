import AdaTensor

/// Thermal state, as mobile operating systems report it (nominal → critical).
public enum ThermalState: String, Codable, Hashable, Sendable, CaseIterable {
  case nominal, fair, serious, critical

  /// Fraction of full clock the device keeps in this state. These are **assumed** values, not
  /// measurements: throttling policies differ per device (docs/profiler.md).
  public var clockFactor: Double {
    switch self {
    case .nominal: 1.0
    case .fair: 0.9
    case .serious: 0.7
    case .critical: 0.5
    }
  }
}

/// The run-time situation of a device (paper: "resource availability"):
///
/// - `cpuShare` (0, 1]: fraction of CPU time this process gets; latency ÷ cpuShare.
/// - `frequencyScale` (0, 1]: DVFS clock fraction; with the thermal factor it forms the
///   effective clock `s`: latency ÷ s, per-core dynamic power × s³.
/// - `memoryAvailableMB`: peak memory above it makes a variant infeasible.
/// - `batteryLevel` [0, 1]: does not change one inference's latency or energy; it gives the
///   number of inferences the remaining charge pays for (devices with `battery_wh`).
/// - `thermal`: clock factor of `ThermalState`.
///
/// Parsed from `cpu=0.5,freq=0.8,mem=512,battery=0.3,thermal=fair` (any subset, any order).
public struct DeviceContext: Codable, Hashable, Sendable, CustomStringConvertible {
  public var cpuShare: Double
  public var frequencyScale: Double
  public var memoryAvailableMB: Double?
  public var batteryLevel: Double?
  public var thermal: ThermalState

  public init(
    cpuShare: Double = 1, frequencyScale: Double = 1, memoryAvailableMB: Double? = nil,
    batteryLevel: Double? = nil, thermal: ThermalState = .nominal
  ) {
    self.cpuShare = cpuShare
    self.frequencyScale = frequencyScale
    self.memoryAvailableMB = memoryAvailableMB
    self.batteryLevel = batteryLevel
    self.thermal = thermal
  }

  /// Effective clock fraction: frequency scale × thermal clock factor.
  public var effectiveClock: Double { frequencyScale * thermal.clockFactor }

  public var description: String {
    var parts = ["cpu=\(cpuShare)", "freq=\(frequencyScale)"]
    if let m = memoryAvailableMB { parts.append("mem=\(m)") }
    if let b = batteryLevel { parts.append("battery=\(b)") }
    parts.append("thermal=\(thermal.rawValue)")
    return parts.joined(separator: ",")
  }

  public static let fields = ["cpu", "freq", "mem", "battery", "thermal"]

  /// Parses `field=value` pairs separated by commas. Errors name the field (`context.cpu`) and
  /// say what was expected and found.
  public static func parse(_ text: String) throws(AdaError) -> DeviceContext {
    var c = DeviceContext()
    var seen = Set<String>()
    for item in text.split(separator: ",", omittingEmptySubsequences: true) {
      let pair = item.split(separator: "=", maxSplits: 1).map {
        String($0).trimmingCharacters(in: .whitespaces)
      }
      guard pair.count == 2, !pair[0].isEmpty else {
        throw AdaError(
          .invalidValue, path: "--context",
          "expected field=value, found '\(item)'; fields: \(fields.joined(separator: ", "))")
      }
      let (field, value) = (pair[0], pair[1])
      guard fields.contains(field) else {
        throw AdaError(
          .invalidValue, path: "context.\(field)",
          "unknown field '\(field)'; expected one of \(fields.joined(separator: ", "))")
      }
      guard seen.insert(field).inserted else {
        throw AdaError(.invalidValue, path: "context.\(field)", "field is given twice")
      }
      switch field {
      case "cpu": c.cpuShare = try number(field, value, "a CPU share in (0, 1]") { $0 > 0 && $0 <= 1 }
      case "freq":
        c.frequencyScale = try number(field, value, "a frequency scale in (0, 1]") { $0 > 0 && $0 <= 1 }
      case "mem": c.memoryAvailableMB = try number(field, value, "megabytes > 0") { $0 > 0 }
      case "battery":
        c.batteryLevel = try number(field, value, "a battery level in [0, 1]") { $0 >= 0 && $0 <= 1 }
      default:
        guard let t = ThermalState(rawValue: value) else {
          throw AdaError(
            .invalidValue, path: "context.thermal",
            "expected one of \(ThermalState.allCases.map(\.rawValue).joined(separator: ", ")), found '\(value)'"
          )
        }
        c.thermal = t
      }
    }
    return c
  }

  private static func number(
    _ field: String, _ value: String, _ expected: String, _ valid: (Double) -> Bool
  ) throws(AdaError) -> Double {
    guard let v = Double(value), v.isFinite, valid(v) else {
      throw AdaError(.invalidValue, path: "context.\(field)", "expected \(expected), found '\(value)'")
    }
    return v
  }

  enum CodingKeys: String, CodingKey {
    case cpuShare = "cpu_share"
    case frequencyScale = "frequency_scale"
    case memoryAvailableMB = "memory_available_mb"
    case batteryLevel = "battery_level"
    case thermal
  }
}
