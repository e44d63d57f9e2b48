import AdaBundle
import AdaCore
import AdaIO
import AdaNN
import AdaONNX
import AdaTensor
import Foundation

/// Writes a bundle directory (docs/bundle.md) atomically: everything is built in a sibling
/// temporary directory `<dir>.tmp-<pid>-<n>` and renamed into place only when complete, so a
/// reader sees the previous bundle or the new one, never a mixture. On any failure the
/// temporary directory is removed and a previous bundle is left untouched.
///
///     <dir>/manifest.json  variants/<id>.h5  lut.json  lut.csv  ops-lut.json (optional)
///           report.md  pareto.svg  pareto-<device>.svg (one per device)
///           variants/<id>_exits.h5  exits-<id>.svg (variants with early exits)
///           variants/<id>.onnx  variants/<id>_exits.onnx (with the `onnx` format)
///
/// The manifest is written last: each variant's `files` lists every model file written for it
/// with its SHA-256.
///
///     try BundleWriter.write(contents, to: "bundles/fmnist", overwrite: false)
public enum BundleWriter {
  public static let manifestFileName = "manifest.json"
  public static let variantsDirectoryName = "variants"
  public static let lutJSONFileName = "lut.json"
  public static let lutCSVFileName = "lut.csv"
  public static let opsTableFileName = "ops-lut.json"
  public static let reportFileName = "report.md"
  public static let paretoFileName = "pareto.svg"

  /// `variants/<id>.h5`: the manifest's `file` of variant `id`, relative to the bundle.
  public static func variantFile(id: String) -> String { "\(variantsDirectoryName)/\(id).h5" }

  /// `variants/<id>_exits.h5`: the multi-exit file of variant `id`, relative to the bundle.
  public static func exitVariantFile(id: String) -> String { "\(variantsDirectoryName)/\(id)_exits.h5" }

  /// `exits-<id>.svg`: accuracy against expected MACs of variant `id`'s operating points.
  public static func exitPlotFileName(id: String) -> String { "exits-\(id).svg" }

  /// `pareto-<device>.svg`, with characters other than letters, digits, `.`, `_`, `-` replaced
  /// by `_`.
  public static func paretoFileName(device: String) -> String {
    let safe = device.unicodeScalars.map { c in
      c.isASCII && (isAlphanumeric(c) || "._-".unicodeScalars.contains(c)) ? String(c) : "_"
    }
    return "pareto-\(safe.joined()).svg"
  }

  /// Writes `contents` as the bundle directory `directory`. Parent directories are created.
  ///
  /// - An existing empty directory is replaced.
  /// - An existing non-empty directory is an error unless `overwrite`; with `overwrite` it must
  ///   hold a `manifest.json` (so a mistyped path never deletes unrelated files). The old
  ///   bundle is renamed aside, the new one renamed in, then the old one is deleted.
  /// - Inconsistent contents (a manifest variant without a payload, a LUT row naming an unknown
  ///   variant, device or context, NaN or infinite numbers) are errors naming the field, raised
  ///   before anything is written.
  public static func write(_ contents: BundleContents, to directory: String, overwrite: Bool) throws(AdaError)
  {
    let directory = normalized(directory)
    try validate(contents, directory: directory)
    recoverFromDeadWriters(directory)
    _ = try existingState(of: directory, overwrite: overwrite)  // fail before the work
    let parent = (directory as NSString).deletingLastPathComponent
    if !parent.isEmpty {
      do {
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
      } catch {
        throw AdaError(
          .writeFailed, file: parent, "cannot create the directory: \(error.localizedDescription)")
      }
    }
    let temporary = try makeUniqueDirectory(base: "\(directory).tmp-\(getpid())")
    do {
      try writeFiles(contents, into: temporary, finalDirectory: directory)
      // The directory may have appeared while the files were written: check again.
      let now = try existingState(of: directory, overwrite: overwrite)
      try moveIntoPlace(temporary, directory, replacing: now == .bundle)
    } catch {
      try? FileManager.default.removeItem(atPath: temporary)
      throw error
    }
  }

  /// Fails unless a bundle can be created at `directory` now (parent directories are created;
  /// a probe directory is made beside it and removed), so a run that would end by failing to
  /// write its bundle fails before its work instead.
  public static func checkWritable(_ directory: String) throws(AdaError) {
    let directory = normalized(directory)
    let parent = (directory as NSString).deletingLastPathComponent
    let hint = "choose a writable output directory"
    if !parent.isEmpty {
      do {
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
      } catch {
        throw AdaError(
          .writeFailed, file: directory, "cannot create the bundle's parent directory \(parent)", hint: hint)
      }
    }
    let probe = "\(directory).tmp-\(getpid())-probe"
    guard mkdir(probe, 0o755) == 0 || errno == EEXIST else {
      throw AdaError(
        .writeFailed, file: directory,
        "cannot write the bundle: creating a directory in \(parent.isEmpty ? "." : parent) fails: \(errnoText())",
        hint: hint)
    }
    rmdir(probe)
  }

  /// Tidies what a writer killed mid-write left beside `directory` (its pid is gone): a
  /// temporary directory `<dir>.tmp-<pid>-<n>` is removed; an old bundle moved aside
  /// (`<dir>.old-<pid>-<n>`) is put back when no bundle took its place, removed otherwise.
  static func recoverFromDeadWriters(_ directory: String) {
    let fm = FileManager.default
    let parent = (directory as NSString).deletingLastPathComponent
    let base = (directory as NSString).lastPathComponent
    let names = (try? fm.contentsOfDirectory(atPath: parent.isEmpty ? "." : parent)) ?? []
    for name in names.sorted() {
      for (marker, restore) in [(".tmp-", false), (".old-", true)] where name.hasPrefix(base + marker) {
        let rest = name.dropFirst(base.count + marker.count)
        guard let pid = Int32(rest.prefix { $0.isNumber }), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
        else { continue }
        let path = parent.isEmpty ? name : "\(parent)/\(name)"
        if restore, !fm.fileExists(atPath: directory), rename(path, directory) == 0 { continue }
        try? fm.removeItem(atPath: path)
      }
    }
  }

  /// Every file of the bundle, into `root` (errors name the same file under `finalDirectory`).
  static func writeFiles(_ contents: BundleContents, into root: String, finalDirectory: String)
    throws(AdaError)
  {
    func relocated(_ error: AdaError) -> AdaError {
      var e = error
      if let file = e.file, file.hasPrefix(root) { e.file = finalDirectory + file.dropFirst(root.count) }
      return e
    }
    do {
      var manifest = contents.manifest
      try createDirectory(path(root, variantsDirectoryName))
      for (i, variant) in contents.manifest.variants.enumerated() {
        let payload = contents.payload(id: variant.id)!  // validate() checked there is one
        var files = try writeModel(
          payload.model, quantized: payload.quantized, file: variant.file, exits: false,
          formats: contents.formats, root: root)
        if let plan = variant.exits, let exitModel = payload.exitModel {
          files += try writeModel(
            exitModel, quantized: payload.exitQuantized, file: plan.file, exits: true,
            formats: contents.formats, root: root)
          try writeText(
            ExitPlot.svg(variant: variant, manifest: contents.manifest),
            to: path(root, exitPlotFileName(id: variant.id)))
        }
        manifest.variants[i].files = files
      }
      try writeData(try encodeJSON(manifest, file: manifestFileName), to: path(root, manifestFileName))
      try writeData(try encodeJSON(contents.lut, file: lutJSONFileName), to: path(root, lutJSONFileName))
      try writeText(contents.lut.csv, to: path(root, lutCSVFileName))
      if let ops = contents.opsTable { try ops.save(to: path(root, opsTableFileName)) }
      try writeText(Report.markdown(contents), to: path(root, reportFileName))
      try writeText(
        ParetoPlot.svg(manifest: contents.manifest, lut: contents.lut), to: path(root, paretoFileName))
      for device in contents.manifest.devices {
        let svg = ParetoPlot.svg(manifest: contents.manifest, lut: contents.lut, device: device)
        try writeText(svg, to: path(root, paretoFileName(device: device)))
      }
    } catch {
      throw relocated(error)
    }
  }

  /// Writes `model` as `file` (Keras `.h5`) and in every other format of `formats` beside it
  /// (`.onnx` through `ONNXExporter`); returns the files with their hashes.
  static func writeModel(
    _ model: Model, quantized: QuantizedWeights, file: String, exits: Bool, formats: [ModelFileFormat],
    root: String
  ) throws(AdaError) -> [Manifest.VariantFile] {
    var written: [Manifest.VariantFile] = []
    for format in formats {
      let relative = Manifest.Variant.replacingExtension(file, format)
      let full = path(root, relative)
      switch format {
      case .keras: try KerasModelWriter.save(model, quantized: quantized, to: full)
      case .onnx: try ONNXExporter.write(model, quantized: quantized, to: full)
      }
      written.append(
        Manifest.VariantFile(file: relative, format: format, exits: exits, sha256: try SHA256.hex(file: full))
      )
    }
    return written
  }

  /// What is at the bundle path now.
  enum Existing { case absent, empty, bundle }

  static func existingState(of directory: String, overwrite: Bool) throws(AdaError) -> Existing {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { return .absent }
    guard isDirectory.boolValue else {
      throw AdaError(
        .writeFailed, file: directory, "exists and is not a directory; a bundle is a directory",
        hint: "choose another output path")
    }
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    if entries.isEmpty { return .empty }
    guard overwrite else {
      throw AdaError(
        .writeFailed, file: directory, "the bundle directory exists and is not empty",
        hint: "pass --overwrite (or set output.overwrite: true in the recipe) to replace it")
    }
    guard entries.contains(manifestFileName) else {
      throw AdaError(
        .writeFailed, file: directory,
        "exists, is not empty and holds no \(manifestFileName): not replacing what is not a bundle",
        hint: "choose another output path or remove the directory yourself")
    }
    return .bundle
  }

  /// Renames `temporary` to `directory`; when `replacing`, the old bundle goes to a sibling
  /// `<dir>.old-<pid>-<n>` first and is deleted after the new one is in place (restored if the
  /// second rename fails).
  static func moveIntoPlace(_ temporary: String, _ directory: String, replacing: Bool) throws(AdaError) {
    guard replacing else {
      // rename(2) replaces an empty directory and fails on a non-empty one.
      guard rename(temporary, directory) == 0 else {
        throw AdaError(.writeFailed, file: directory, "cannot move the bundle into place: \(errnoText())")
      }
      return
    }
    let aside = try makeUniqueDirectory(base: "\(directory).old-\(getpid())")
    guard rename(directory, aside) == 0 else {
      let reason = errnoText()
      try? FileManager.default.removeItem(atPath: aside)
      throw AdaError(.writeFailed, file: directory, "cannot move the old bundle aside: \(reason)")
    }
    guard rename(temporary, directory) == 0 else {
      let reason = errnoText()
      _ = rename(aside, directory)
      throw AdaError(.writeFailed, file: directory, "cannot move the bundle into place: \(reason)")
    }
    try? FileManager.default.removeItem(atPath: aside)
  }

  /// Creates `<base>-<n>` for the first n ≥ 0 that does not exist yet (mkdir is atomic, so two
  /// writers in one process or two processes never share one).
  static func makeUniqueDirectory(base: String) throws(AdaError) -> String {
    for n in 0..<10_000 {
      let candidate = "\(base)-\(n)"
      if mkdir(candidate, 0o755) == 0 { return candidate }
      guard errno == EEXIST else {
        throw AdaError(.writeFailed, file: candidate, "cannot create a temporary directory: \(errnoText())")
      }
    }
    throw AdaError(.writeFailed, file: base, "cannot find a free temporary directory name")
  }

  static func createDirectory(_ path: String) throws(AdaError) {
    guard mkdir(path, 0o755) == 0 else {
      throw AdaError(.writeFailed, file: path, "cannot create the directory: \(errnoText())")
    }
  }

  static func encodeJSON(_ value: some Encodable, file: String) throws(AdaError) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    do {
      return try encoder.encode(value)
    } catch {
      throw AdaError(.internalError, file: file, "cannot encode JSON: \(error)")
    }
  }

  static func writeText(_ text: String, to path: String) throws(AdaError) {
    try writeData(Data(text.utf8), to: path)
  }

  static func writeData(_ data: Data, to path: String) throws(AdaError) {
    try AtomicFile.writeBytes(data, to: path)
  }

  static func path(_ directory: String, _ name: String) -> String { "\(directory)/\(name)" }

  /// Without trailing slashes (so `<dir>.tmp-…` is a sibling), `.` for an empty path.
  static func normalized(_ directory: String) -> String {
    var d = directory
    while d.count > 1 && d.hasSuffix("/") { d.removeLast() }
    return d.isEmpty ? "." : d
  }

  static func errnoText() -> String { String(cString: strerror(errno)) }
}
