import AdaTensor

/// `lut.csv`: the lookup table's rows for spreadsheets and pandas, RFC 4180: one header row
/// (`csvColumns`, the JSON key names), one record per row, CRLF line ends, fields quoted with
/// `"` when they hold a comma, a quote or a line break (quotes doubled inside). Numbers are in
/// Swift's shortest round-trip form, so parsing gives back exactly the same rows; `feasible` is
/// `true`/`false`.
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

  /// Rows read back from `lut.csv` text: the header must be `csvColumns`; every record needs
  /// all columns with well-formed values. Errors name `file` and `line N, column`.
  public static func rows(csv text: String, file: String? = nil) throws(AdaError) -> [Row] {
    let records = try csvRecords(text, file: file)
    guard let header = records.first?.fields, header == csvColumns else {
      throw AdaError(
        .badFormat, file: file, path: "line 1",
        "expected the header \(csvColumns.joined(separator: ",")), "
          + "found \(records.first?.fields.joined(separator: ",") ?? "nothing")")
    }
    var rows: [Row] = []
    for record in records.dropFirst() {
      let f = record.fields
      guard f.count == csvColumns.count else {
        throw AdaError(
          .badFormat, file: file, path: "line \(record.line)",
          "expected \(csvColumns.count) fields, found \(f.count)")
      }
      func value<T>(_ i: Int, _ parse: (String) -> T?) throws(AdaError) -> T {
        guard let v = parse(f[i]) else {
          throw AdaError(
            .badFormat, file: file, path: "line \(record.line), \(csvColumns[i])",
            "cannot read '\(f[i])' as \(T.self)")
        }
        return v
      }
      let feasible: Bool = try value(9) { $0 == "true" ? true : $0 == "false" ? false : nil }
      rows.append(
        Row(
          variant: f[0], device: f[1], source: f[2], context: f[3], latencyMs: try value(4, Double.init),
          latencyStdMs: try value(5, Double.init), energyMj: try value(6, Double.init),
          memoryBytes: try value(7) { Int($0) }, accuracy: try value(8, Double.init), feasible: feasible))
    }
    return rows
  }

  /// RFC 4180 records with the line each starts on (1-based); accepts CRLF or LF line ends and
  /// a missing final line end. A quote inside an unquoted field, text after a closing quote, or
  /// an unterminated quote is an error.
  static func csvRecords(_ text: String, file: String?) throws(AdaError) -> [(line: Int, fields: [String])] {
    var records: [(line: Int, fields: [String])] = []
    var fields: [String] = []
    var field = String.UnicodeScalarView()
    var line = 1
    var recordLine = 1
    var quoted = false  // inside a quoted field
    var wasQuoted = false  // the current field was quoted (and closed)
    let scalars = Array(text.unicodeScalars)
    var i = 0
    func endField() {
      fields.append(String(field))
      field = String.UnicodeScalarView()
      wasQuoted = false
    }
    while i < scalars.count {
      let c = scalars[i]
      if quoted {
        if c == "\"" {
          if i + 1 < scalars.count && scalars[i + 1] == "\"" {
            field.append("\"")
            i += 1
          } else {
            quoted = false
            wasQuoted = true
          }
        } else {
          if c == "\n" { line += 1 }
          field.append(c)
        }
      } else if c == "," {
        endField()
      } else if c == "\r" || c == "\n" {
        if c == "\r" && i + 1 < scalars.count && scalars[i + 1] == "\n" { i += 1 }
        endField()
        records.append((recordLine, fields))
        fields = []
        line += 1
        recordLine = line
      } else if wasQuoted {
        throw AdaError(.badFormat, file: file, path: "line \(line)", "text after a closing quote")
      } else if c == "\"" {
        guard field.isEmpty else {
          throw AdaError(.badFormat, file: file, path: "line \(line)", "a quote inside an unquoted field")
        }
        quoted = true
      } else {
        field.append(c)
      }
      i += 1
    }
    guard !quoted else {
      throw AdaError(.badFormat, file: file, path: "line \(recordLine)", "a quoted field is not closed")
    }
    if !field.isEmpty || !fields.isEmpty || wasQuoted {
      endField()
      records.append((recordLine, fields))
    }
    return records
  }
}
