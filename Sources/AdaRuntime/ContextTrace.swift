import AdaProfile
import AdaTensor
import Foundation

/// A recorded or scripted sequence of device contexts, replayed by `TraceSimulator`
/// (`adascale simulate`). CSV with a header naming the columns, in any order; `#` starts a
/// comment line:
///
///     # t: seconds; cpu_share (0, 1]; mem_available_mb > 0 or empty (unknown);
///     # battery [0, 1] or empty (mains); optional freq_scale (0, 1] and thermal state
///     t,cpu_share,mem_available_mb,battery,freq_scale,thermal
///     0,1.0,2048,0.9,1.0,nominal
///     1,0.3,2048,0.9,1.0,nominal
///
/// `t` must not decrease. Errors name `file:line` and the column, with expected vs found.
public struct ContextTrace: Sendable {
  public struct Row: Sendable, Hashable {
    /// Seconds from the start of the trace.
    public var t: Double
    public var context: DeviceContext
    /// 1-based line in the file.
    public var line: Int
  }

  public static let requiredColumns = ["t", "cpu_share", "mem_available_mb", "battery"]
  public static let optionalColumns = ["freq_scale", "thermal"]

  public var file: String
  public var rows: [Row]

  public init(file: String, rows: [Row]) {
    self.file = file
    self.rows = rows
  }

  public static func load(path: String) throws(AdaError) -> ContextTrace {
    guard FileManager.default.fileExists(atPath: path) else {
      throw AdaError(.fileNotFound, file: path, "trace file does not exist")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw AdaError(.fileNotFound, file: path, "cannot read the trace file")
    }
    return try parse(String(decoding: data, as: UTF8.self), file: path)
  }

  public static func parse(_ text: String, file: String) throws(AdaError) -> ContextTrace {
    var columns: [String]?
    var rows: [Row] = []
    for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = i + 1
      let content = raw.trimmingCharacters(in: .whitespacesAndNewlines)
      if content.isEmpty || content.hasPrefix("#") { continue }
      let cells = content.split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      guard let header = columns else {
        columns = try checkHeader(cells, file: file, line: line)
        continue
      }
      guard cells.count == header.count else {
        throw AdaError(
          .badFormat, file: "\(file):\(line)",
          "expected \(header.count) columns (\(header.joined(separator: ","))), found \(cells.count)")
      }
      var row = Row(t: 0, context: DeviceContext(), line: line)
      for (column, cell) in zip(header, cells) {
        try set(&row, column, cell, file: file, line: line)
      }
      if let previous = rows.last, row.t < previous.t {
        throw AdaError(
          .invalidValue, file: "\(file):\(line)", path: "t",
          "time goes backwards: \(row.t) after \(previous.t) (line \(previous.line))")
      }
      rows.append(row)
    }
    guard columns != nil else {
      throw AdaError(
        .badFormat, file: file,
        "the trace has no header; expected columns \((requiredColumns + optionalColumns).joined(separator: ","))"
      )
    }
    guard !rows.isEmpty else { throw AdaError(.missing, file: file, "the trace has a header but no rows") }
    return ContextTrace(file: file, rows: rows)
  }

  private static func checkHeader(_ cells: [String], file: String, line: Int) throws(AdaError) -> [String] {
    let known = requiredColumns + optionalColumns
    for (i, c) in cells.enumerated() {
      guard known.contains(c) else {
        throw AdaError(
          .invalidValue, file: "\(file):\(line)", path: "column \(i + 1)",
          "unknown column '\(c)'; expected \(known.joined(separator: ", "))")
      }
      guard cells.firstIndex(of: c) == i else {
        throw AdaError(.invalidValue, file: "\(file):\(line)", path: c, "column appears twice")
      }
    }
    if let missing = requiredColumns.first(where: { !cells.contains($0) }) {
      throw AdaError(
        .missing, file: "\(file):\(line)", path: missing,
        "required column is missing; the header must name \(requiredColumns.joined(separator: ", "))")
    }
    return cells
  }

  private static func set(
    _ row: inout Row, _ column: String, _ cell: String, file: String, line: Int
  ) throws(AdaError) {
    func number(_ expected: String, optional: Bool = false, _ valid: (Double) -> Bool) throws(AdaError)
      -> Double?
    {
      if cell.isEmpty && optional { return nil }
      guard let v = Double(cell), v.isFinite, valid(v) else {
        throw AdaError(
          .invalidValue, file: "\(file):\(line)", path: column,
          "expected \(expected), found '\(cell)'")
      }
      return v
    }
    switch column {
    case "t": row.t = try number("seconds ≥ 0") { $0 >= 0 }!
    case "cpu_share": row.context.cpuShare = try number("a CPU share in (0, 1]") { $0 > 0 && $0 <= 1 }!
    case "mem_available_mb":
      row.context.memoryAvailableMB = try number("megabytes > 0, or empty for unknown", optional: true) {
        $0 > 0
      }
    case "battery":
      row.context.batteryLevel = try number("a level in [0, 1], or empty for mains", optional: true) {
        $0 >= 0 && $0 <= 1
      }
    case "freq_scale":
      row.context.frequencyScale =
        try number("a frequency scale in (0, 1]", optional: true) { $0 > 0 && $0 <= 1 } ?? 1
    default:
      if cell.isEmpty { return }
      guard let state = ThermalState(rawValue: cell) else {
        throw AdaError(
          .invalidValue, file: "\(file):\(line)", path: column,
          "expected one of \(ThermalState.allCases.map(\.rawValue).joined(separator: ", ")), found '\(cell)'")
      }
      row.context.thermal = state
    }
  }
}
