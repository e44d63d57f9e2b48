import AdaCompress
import AdaNN
import Foundation

/// Number and text formatting for `report.md`: locale-independent, so the report is the same
/// bytes on every machine for the same contents.
extension Report {
  /// `0.9066` → `90.66 %`.
  static func percent(_ fraction: Double) -> String { String(format: "%.2f %%", fraction * 100) }

  /// Accuracy difference in percentage points, signed: `+0.12`, `-1.50`.
  static func points(_ difference: Double) -> String {
    let p = difference * 100
    return (p >= 0 ? "+" : "-") + String(format: "%.2f", abs(p))
  }

  /// Milliseconds with three significant digits at least (`0.412`, `12.3`, `1234`).
  static func ms(_ value: Double) -> String { significant(value) }

  /// Three significant digits, never in exponent form.
  static func significant(_ value: Double) -> String {
    guard value.isFinite, value != 0 else { return value == 0 ? "0" : "\(value)" }
    let decimals = max(0, min(9, 2 - Int(floor(log10(abs(value))))))
    return String(format: "%.\(decimals)f", value)
  }

  /// `1234567` → `1,234,567`.
  static func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
      out.append(c)
    }
    return value < 0 ? "-" + out : out
  }

  /// Bytes in binary units: `812 B`, `12.4 KiB`, `3.05 MiB`.
  static func bytes(_ value: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB"]
    var v = Double(value)
    var unit = 0
    while abs(v) >= 1024 && unit < units.count - 1 {
      v /= 1024
      unit += 1
    }
    return unit == 0 ? "\(value) B" : "\(significant(v)) \(units[unit])"
  }

  /// Seconds as `0.84 s`, `12.3 s`, `4 min 05 s`, `1 h 02 min`.
  static func duration(_ seconds: Double) -> String {
    if seconds < 60 { return "\(significant(seconds)) s" }
    let whole = Int(seconds.rounded())
    if whole < 3600 { return String(format: "%d min %02d s", whole / 60, whole % 60) }
    return String(format: "%d h %02d min", whole / 3600, (whole % 3600) / 60)
  }

  /// Signed relative error in percent: `+3.4 %`.
  static func relativeError(_ predicted: Double, _ measured: Double) -> String {
    guard measured != 0 else { return "–" }
    let e = (predicted - measured) / measured * 100
    return (e >= 0 ? "+" : "-") + String(format: "%.1f %%", abs(e))
  }

  /// The genome without its defaults: only blocks that are not `base@1/32`, each as
  /// `block: branch, w=0.5, 8-bit` (parts at their default left out); `exit=<name>` when not
  /// the main output. `source architecture` when nothing differs.
  static func shortGenome(_ genome: SubnetConfig) -> String {
    var parts: [String] = []
    for b in genome.blocks {
      var choice: [String] = []
      if b.branch != SubnetConfig.baseBranch { choice.append(b.branch) }
      if b.width != 1 {
        choice.append("w=\(b.width == b.width.rounded() ? String(Int(b.width)) : String(b.width))")
      }
      if b.bits != 32 { choice.append("\(b.bits)-bit") }
      if !choice.isEmpty { parts.append("\(b.block): \(choice.joined(separator: ", "))") }
    }
    if genome.exit != SubnetConfig.mainExit { parts.append("exit=\(genome.exit)") }
    return parts.isEmpty ? "source architecture" : parts.joined(separator: "; ")
  }

  /// `text` safe inside a Markdown table cell: `|` escaped, line breaks as spaces.
  static func cell(_ text: String) -> String {
    text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\r", with: " ")
      .replacingOccurrences(of: "\n", with: " ")
  }

  /// A Markdown table: header, right-aligned columns where `numeric`, rows.
  static func table(_ header: [String], numeric: Set<Int>, _ rows: [[String]]) -> [String] {
    let align = header.indices.map { numeric.contains($0) ? "---:" : "---" }
    return ([header, align] + rows).map { "| " + $0.joined(separator: " | ") + " |" }
  }
}
