import AdaBundle

/// `lut.csv`: the lookup table's rows for spreadsheets and pandas, RFC 4180: one header row
/// (`csvColumns`, the JSON key names), one record per row, CRLF line ends, fields quoted with
/// `"` when they hold a comma, a quote or a line break (quotes doubled inside). Numbers are in
/// Swift's shortest round-trip form, so a CSV reader gives back exactly the same rows (tested
/// with an independent RFC 4180 parser); `feasible` is `true`/`false`.
///
///     variant,device,source,context,latency_ms,latency_std_ms,energy_mj,memory_bytes,accuracy,feasible
///     v01,host,measured,normal,0.412,0.003,1.21,301056,0.9066,true
extension LookupTable {
  public static let csvColumns = [
    "variant", "device", "source", "context", "latency_ms", "latency_std_ms", "energy_mj", "memory_bytes",
    "accuracy", "feasible",
  ]

  /// The rows as CSV text (header included, ends with CRLF).
  public var csv: String {
    var lines = [Self.csvColumns.map(Self.csvField).joined(separator: ",")]
    for r in rows {
      let fields = [
        r.variant, r.device, r.source, r.context, "\(r.latencyMs)", "\(r.latencyStdMs)", "\(r.energyMj)",
        "\(r.memoryBytes)", "\(r.accuracy)", r.feasible ? "true" : "false",
      ]
      lines.append(fields.map(Self.csvField).joined(separator: ","))
    }
    return lines.map { $0 + "\r\n" }.joined()
  }

  /// `field`, quoted when it holds `,`, `"`, CR or LF.
  public static func csvField(_ field: String) -> String {
    guard field.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" })
    else { return field }
    return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}
