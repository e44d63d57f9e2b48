import AdaBundle
import AdaONNX
import AdaTensor
import Foundation

/// The checks `BundleWriter.write` makes before it writes anything. The contents come from the
/// pipeline, so a failure here is a bug upstream; errors still name the file and field (JSON
/// key path, e.g. `variants[1].latency_ms`) so it can be found.
extension BundleWriter {
  static func validate(_ contents: BundleContents, directory: String) throws(AdaError) {
    let manifest = contents.manifest
    let manifestFile = path(directory, manifestFileName)
    let lutFile = path(directory, lutJSONFileName)
    guard manifest.format == Manifest.formatName, manifest.formatVersion == Manifest.currentFormatVersion
    else {
      throw AdaError(
        .invalidValue, file: manifestFile, path: "format_version",
        "this writer writes \(Manifest.formatName) version \(Manifest.currentFormatVersion), "
          + "the manifest says \(manifest.format) version \(manifest.formatVersion)")
    }
    try checkFinite(manifest, file: manifestFile, prefix: nil)
    guard contents.formats.contains(.keras), Set(contents.formats).count == contents.formats.count else {
      throw AdaError(
        .invalidValue, path: "output.formats",
        "expected distinct formats including keras, found \(contents.formats.map(\.rawValue))")
    }
    if contents.formats.contains(.onnx) {
      // Only what ONNX cannot hold is reported here; a broken model is the Keras writer's to
      // report, naming its .h5.
      for payload in contents.variants {
        let models =
          [(payload.model, payload.quantized, "")]
          + (payload.exitModel.map { [($0, payload.exitQuantized, "_exits")] } ?? [])
        for (model, quantized, suffix) in models {
          do {
            try ONNXExporter.checkSupported(model, quantized: quantized)
          } catch  where error.kind == .unsupported {
            throw AdaError(
              error.kind, file: path(directory, "variants/\(payload.id)\(suffix).onnx"), path: error.path,
              error.message, hint: "drop onnx from output.formats to write the Keras files only")
          } catch {}
        }
      }
    }
    try checkFinite(contents.lut, file: lutFile, prefix: nil)
    try checkFinite(contents.report, file: nil, prefix: "report")
    try checkUnique(manifest.devices, file: manifestFile, path: "devices")
    try checkUnique(manifest.contexts.map(\.name), file: manifestFile, path: "contexts")
    try checkUnique(manifest.variants.map(\.id), file: manifestFile, path: "variants")
    try checkAccuracy(manifest.source.accuracy, file: manifestFile, path: "source.accuracy")
    try checkVariants(contents, file: manifestFile)
    try checkLookupTable(contents.lut, manifest: manifest, file: lutFile)
    try checkReport(contents.report, source: manifest.source)
  }

  /// Each manifest variant: a file-safe id, `file == variants/<id>.h5`, a genome key that is its
  /// genome's description, accuracies in [0, 1], and exactly one payload with its id.
  static func checkVariants(_ contents: BundleContents, file: String) throws(AdaError) {
    let ids = Set(contents.manifest.variants.map(\.id))
    for (i, v) in contents.manifest.variants.enumerated() {
      let at = "variants[\(i)]"
      guard isFileSafe(v.id) else {
        throw AdaError(
          .invalidValue, file: file, path: "\(at).id",
          "variant id '\(v.id)' cannot be a file name (use letters, digits, '.', '_', '-')")
      }
      guard v.file == variantFile(id: v.id) else {
        throw AdaError(
          .invalidValue, file: file, path: "\(at).file",
          "expected '\(variantFile(id: v.id))', found '\(v.file)'")
      }
      guard v.genomeKey == v.genome.description else {
        throw AdaError(
          .invalidValue, file: file, path: "\(at).genome_key",
          "expected the genome's description '\(v.genome.description)', found '\(v.genomeKey)'")
      }
      try checkAccuracy(v.accuracy, file: file, path: "\(at).accuracy")
      try checkAccuracy(v.searchAccuracy, file: file, path: "\(at).search_accuracy")
      let payloads = contents.variants.filter { $0.id == v.id }.count
      guard payloads == 1 else {
        throw AdaError(
          .invalidValue, file: file, path: "\(at).id",
          "variant '\(v.id)' has \(payloads) payloads, expected exactly one")
      }
      try checkExits(v, payload: contents.payload(id: v.id)!, file: file, at: at)
    }
    if let extra = contents.variants.first(where: { !ids.contains($0.id) }) {
      throw AdaError(
        .invalidValue, file: file, path: "variants",
        "payload '\(extra.id)' has no manifest variant with that id")
    }
  }

  /// A variant with exits: `exits.file == variants/<id>_exits.h5`, a multi-exit model in the
  /// payload whose outputs are the plan's exits then one more, thresholds in [0, 1] or null,
  /// one per exit; a variant without exits has no multi-exit model.
  static func checkExits(_ v: Manifest.Variant, payload: VariantPayload, file: String, at: String)
    throws(AdaError)
  {
    guard let plan = v.exits else {
      guard payload.exitModel == nil else {
        throw AdaError(
          .invalidValue, file: file, path: "\(at).exits",
          "variant '\(v.id)' has a multi-exit model but no exit plan")
      }
      return
    }
    guard plan.file == exitVariantFile(id: v.id) else {
      throw AdaError(
        .invalidValue, file: file, path: "\(at).exits.file",
        "expected '\(exitVariantFile(id: v.id))', found '\(plan.file)'")
    }
    guard let model = payload.exitModel else {
      throw AdaError(
        .invalidValue, file: file, path: "\(at).exits",
        "variant '\(v.id)' has an exit plan but no multi-exit model")
    }
    guard plan.matches(outputs: model.graph.outputs) else {
      throw AdaError(
        .invalidValue, file: file, path: "\(at).exits.exits",
        "the multi-exit model's outputs \(model.graph.outputs) are not the plan's exits \(plan.exits.map(\.output)) "
          + "followed by the variant's own output")
    }
    try plan.checkThresholds(file: file, at: at)
    for (k, p) in plan.operatingPoints.enumerated() {
      let here = "\(at).exits.operating_points[\(k)]"
      try checkAccuracy(p.testAccuracy, file: file, path: "\(here).test_accuracy")
      try checkAccuracy(p.validationAccuracy, file: file, path: "\(here).validation_accuracy")
    }
  }

  /// Every row names a manifest variant, device and context; no (variant, device, context)
  /// appears twice; accuracies lie in [0, 1].
  static func checkLookupTable(_ lut: LookupTable, manifest: Manifest, file: String) throws(AdaError) {
    let variants = Set(manifest.variants.map(\.id))
    let devices = Set(manifest.devices)
    let contexts = Set(manifest.contexts.map(\.name))
    var seen = Set<[String]>()
    for (i, row) in lut.rows.enumerated() {
      let at = "rows[\(i)]"
      guard variants.contains(row.variant) else {
        throw AdaError(
          .invalidValue, file: file, path: "\(at).variant", "'\(row.variant)' is not a manifest variant")
      }
      guard devices.contains(row.device) else {
        throw AdaError(
          .invalidValue, file: file, path: "\(at).device",
          "'\(row.device)' is not a manifest device (\(manifest.devices.joined(separator: ", ")))")
      }
      guard contexts.contains(row.context) else {
        throw AdaError(
          .invalidValue, file: file, path: "\(at).context",
          "'\(row.context)' is not a manifest context "
            + "(\(manifest.contexts.map(\.name).joined(separator: ", ")))")
      }
      guard seen.insert([row.variant, row.device, row.context]).inserted else {
        throw AdaError(
          .invalidValue, file: file, path: at,
          "a second row for variant '\(row.variant)', device '\(row.device)', context '\(row.context)'")
      }
      try checkAccuracy(row.accuracy, file: file, path: "\(at).accuracy")
    }
  }

  /// The report's source figures are the manifest's, and the overhead times are positive.
  static func checkReport(_ report: ReportData, source: Manifest.SourceModel) throws(AdaError) {
    guard report.sourceAccuracy == source.accuracy, report.sourceLatencyMs == source.latencyMs else {
      throw AdaError(
        .invalidValue, path: "report.source_accuracy",
        "the report's source model (accuracy \(report.sourceAccuracy), \(report.sourceLatencyMs) ms) "
          + "differs from the manifest's (accuracy \(source.accuracy), \(source.latencyMs) ms)")
    }
    if let o = report.overhead, !(o.supernetSeconds > 0 && o.oneByOneSeconds > 0) {
      throw AdaError(
        .invalidValue, path: "report.overhead",
        "training times must be positive, found supernet \(o.supernetSeconds) s, "
          + "one-by-one \(o.oneByOneSeconds) s")
    }
  }

  static func checkAccuracy(_ value: Double, file: String?, path: String) throws(AdaError) {
    guard (0...1).contains(value) else {
      throw AdaError(.invalidValue, file: file, path: path, "accuracy must lie in [0, 1], found \(value)")
    }
  }

  static func checkUnique(_ names: [String], file: String, path: String) throws(AdaError) {
    var seen = Set<String>()
    for (i, name) in names.enumerated() where !seen.insert(name).inserted {
      throw AdaError(.invalidValue, file: file, path: "\(path)[\(i)]", "'\(name)' appears twice")
    }
  }

  /// Letters, digits, `.`, `_`, `-`; not empty, not `.` or `..`.
  static func isFileSafe(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".."
      && name.unicodeScalars.allSatisfy {
        $0.isASCII && (isAlphanumeric($0) || "._-".unicodeScalars.contains($0))
      }
  }

  static func isAlphanumeric(_ c: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
  }

  /// Throws `.nonFinite` naming the first NaN or infinite number in `value`'s JSON form, by its
  /// key path (`variants[1].latency_ms`), so every numeric field is covered, present and future.
  static func checkFinite(_ value: some Encodable, file: String?, prefix: String?) throws(AdaError) {
    guard let (path, found) = firstNonFinite(in: value) else { return }
    let full = prefix.map { path.isEmpty ? $0 : "\($0).\(path)" } ?? path
    throw AdaError(.nonFinite, file: file, path: full, "expected a finite number, found \(found)")
  }

  /// The key path and value (`nan`, `inf`, `-inf`) of the first non-finite number, in key order.
  static func firstNonFinite(in value: some Encodable) -> (path: String, value: String)? {
    let marker = "\u{1}adascale-non-finite:"
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: marker + "inf", negativeInfinity: marker + "-inf", nan: marker + "nan")
    guard let data = try? encoder.encode(value),
      let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    else { return nil }
    func search(_ node: Any, _ path: String) -> (String, String)? {
      if let text = node as? String, text.hasPrefix(marker) {
        return (path, String(text.dropFirst(marker.count)))
      }
      if let array = node as? [Any] {
        for (i, element) in array.enumerated() {
          if let hit = search(element, "\(path)[\(i)]") { return hit }
        }
      }
      if let object = node as? [String: Any] {
        for key in object.keys.sorted() {
          if let hit = search(object[key]!, path.isEmpty ? key : "\(path).\(key)") { return hit }
        }
      }
      return nil
    }
    return search(object, "")
  }
}
