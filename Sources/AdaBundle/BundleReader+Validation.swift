import AdaTensor
import Foundation

/// Reading one of a bundle's JSON files: header first (`format`, `format_version`), then the
/// whole document, with decoding failures turned into located `AdaError`s.
enum BundleJSON {
  private struct Header: Decodable {
    var format: String?
    var formatVersion: Int?
    enum CodingKeys: String, CodingKey {
      case format, formatVersion = "format_version"
    }
  }

  /// Decodes `file` as `T` after checking its header. NaN and Infinity literals are accepted by
  /// the parser (JSON5) so that validation can name the field that holds them.
  static func decode<T: Decodable>(
    _ type: T.Type, file: String, format: String, version: Int
  ) throws(AdaError) -> T {
    guard FileManager.default.fileExists(atPath: file) else {
      throw AdaError(
        .missing, file: file, "the bundle has no \(URL(fileURLWithPath: file).lastPathComponent)",
        hint: "the bundle may not have been written completely; run `adascale compress` again")
    }
    guard let data = FileManager.default.contents(atPath: file) else {
      throw AdaError(.fileNotFound, file: file, "cannot read the file")
    }
    try checkUTF8(data, file: file)
    let decoder = JSONDecoder()
    decoder.allowsJSON5 = true
    let header: Header
    do {
      header = try decoder.decode(Header.self, from: data)
    } catch {
      throw located(error, file: file)
    }
    guard header.format == format else {
      throw AdaError(
        .invalidValue, file: file, path: "format",
        "expected '\(format)', found \(header.format.map { "'\($0)'" } ?? "no format field")")
    }
    guard let found = header.formatVersion else {
      throw AdaError(.missing, file: file, path: "format_version", "the field is missing")
    }
    guard found <= version else {
      throw AdaError(
        .unsupported, file: file, path: "format_version",
        "format version \(found) is newer than this adascale reads (\(version))",
        hint: "upgrade adascale to read this bundle")
    }
    guard found >= 1 else {
      throw AdaError(
        .invalidValue, file: file, path: "format_version", "expected a version ≥ 1, found \(found)")
    }
    do {
      return try decoder.decode(T.self, from: data)
    } catch {
      throw located(error, file: file)
    }
  }

  /// A decoding failure as an `AdaError` naming the JSON path (`variants[2].accuracy`).
  /// Foundation's JSON5 scanner (Swift 6.3) traps on bytes that are not UTF-8 where it looks
  /// for an unquoted key (`{` then 0xff: "Fatal error" in CodableUtilities.swift, a crash;
  /// found by fuzz-manifest), so the text is checked first, naming the first bad byte.
  static func checkUTF8(_ data: Data, file: String) throws(AdaError) {
    var parser = Unicode.UTF8.ForwardParser()
    var bytes = data.makeIterator()
    var offset = 0
    while true {
      switch parser.parseScalar(from: &bytes) {
      case .valid(let scalar): offset += scalar.count
      case .emptyInput: return
      case .error:
        throw AdaError(
          .badFormat, file: file, path: "byte \(offset)",
          "not UTF-8 text: byte \(offset) (0x\(String(data[data.startIndex + offset], radix: 16))) "
            + "starts no UTF-8 character; the file is damaged")
      }
    }
  }

  static func located(_ error: any Error, file: String) -> AdaError {
    guard let error = error as? DecodingError else {
      return AdaError(.badFormat, file: file, "not valid JSON: \(error)")
    }
    switch error {
    case .keyNotFound(let key, let c):
      return AdaError(
        .missing, file: file, path: jsonPath(c.codingPath + [key]), "the field is missing")
    case .typeMismatch(_, let c), .valueNotFound(_, let c):
      return AdaError(.badFormat, file: file, path: jsonPath(c.codingPath), c.debugDescription)
    case .dataCorrupted(let c):
      if c.codingPath.isEmpty {
        return AdaError(.badFormat, file: file, "not valid JSON (truncated or corrupt)")
      }
      return AdaError(.badFormat, file: file, path: jsonPath(c.codingPath), c.debugDescription)
    @unknown default:
      return AdaError(.badFormat, file: file, "\(error)")
    }
  }

  /// `[variants, 2, accuracy]` → `variants[2].accuracy`.
  static func jsonPath(_ keys: [any CodingKey]) -> String {
    var out = ""
    for key in keys {
      if let i = key.intValue {
        out += "[\(i)]"
      } else {
        out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
      }
    }
    return out.isEmpty ? "(top level)" : out
  }
}

extension ModelBundle {
  /// Checks values the types cannot: finiteness and ranges, unique ids, files present, LUT rows
  /// naming known variants and contexts.
  func validate() throws(AdaError) {
    let manifestPath = Self.path(directory, Self.manifestFile)
    let lutPath = Self.path(directory, Self.lutFile)
    guard !manifest.variants.isEmpty else {
      throw AdaError(.missing, file: manifestPath, path: "variants", "the bundle lists no variants")
    }
    var ids = Set<String>()
    for (i, v) in manifest.variants.enumerated() {
      let at = "variants[\(i)]"
      guard ids.insert(v.id).inserted else {
        throw AdaError(
          .invalidValue, file: manifestPath, path: "\(at).id", "variant id '\(v.id)' appears twice")
      }
      try check(v.accuracy, "\(at).accuracy", manifestPath, "an accuracy in [0, 1]") { $0 >= 0 && $0 <= 1 }
      try check(v.latencyMs, "\(at).latency_ms", manifestPath, "a latency > 0 ms") { $0 > 0 }
      try check(v.energyMj, "\(at).energy_mj", manifestPath, "an energy ≥ 0 mJ") { $0 >= 0 }
      try check(v.searchAccuracy, "\(at).search_accuracy", manifestPath, "a finite number") { _ in true }
      try check(v.predictedLatencyMs, "\(at).predicted_latency_ms", manifestPath, "a finite number") { _ in
        true
      }
      guard v.peakMemoryBytes >= 0, v.weightBytes >= 0 else {
        throw AdaError(
          .invalidValue, file: manifestPath, path: "\(at).peak_memory_bytes", "memory sizes must be ≥ 0")
      }
      let file = Self.path(directory, v.file)
      guard FileManager.default.fileExists(atPath: file) else {
        throw AdaError(
          .fileNotFound, file: file, path: "\(manifestPath): \(at).file",
          "variant '\(v.id)' is listed in the manifest but its file is missing",
          hint: "the bundle is incomplete; copy the whole directory or run `adascale compress` again")
      }
      if let plan = v.exits { try validateExits(plan, at: at, manifestPath: manifestPath) }
    }
    let contexts = Set(manifest.contexts.map(\.name))
    for (i, c) in manifest.contexts.enumerated() {
      let ctx = c.context
      let at = "contexts[\(i)].context"
      try check(ctx.cpuShare, "\(at).cpu_share", manifestPath, "a CPU share in (0, 1]") { $0 > 0 && $0 <= 1 }
      try check(ctx.frequencyScale, "\(at).frequency_scale", manifestPath, "a scale in (0, 1]") {
        $0 > 0 && $0 <= 1
      }
    }
    for (i, row) in lut.rows.enumerated() {
      let at = "rows[\(i)]"
      guard ids.contains(row.variant) else {
        throw AdaError(
          .invalidValue, file: lutPath, path: "\(at).variant",
          "names variant '\(row.variant)', which the manifest does not list "
            + "(variants: \(manifest.variants.map(\.id).joined(separator: ", ")))")
      }
      guard contexts.contains(row.context) else {
        throw AdaError(
          .invalidValue, file: lutPath, path: "\(at).context",
          "names context '\(row.context)', which the manifest does not list "
            + "(contexts: \(manifest.contexts.map(\.name).joined(separator: ", ")))")
      }
      try check(row.latencyMs, "\(at).latency_ms", lutPath, "a latency > 0 ms") { $0 > 0 }
      try check(row.latencyStdMs, "\(at).latency_std_ms", lutPath, "a standard deviation ≥ 0") { $0 >= 0 }
      try check(row.energyMj, "\(at).energy_mj", lutPath, "an energy ≥ 0 mJ") { $0 >= 0 }
      try check(row.accuracy, "\(at).accuracy", lutPath, "an accuracy in [0, 1]") { $0 >= 0 && $0 <= 1 }
      guard row.memoryBytes >= 0 else {
        throw AdaError(
          .invalidValue, file: lutPath, path: "\(at).memory_bytes", "expected ≥ 0, found \(row.memoryBytes)")
      }
    }
  }

  /// `value` must be finite and `valid`, else an error naming `path` in `file`.
  func check(
    _ value: Double, _ path: String, _ file: String, _ expected: String, _ valid: (Double) -> Bool
  ) throws(AdaError) {
    guard value.isFinite else {
      throw AdaError(.nonFinite, file: file, path: path, "expected \(expected), found \(value)")
    }
    guard valid(value) else {
      throw AdaError(.invalidValue, file: file, path: path, "expected \(expected), found \(value)")
    }
  }
}
