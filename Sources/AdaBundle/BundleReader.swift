import AdaIO
import AdaNN
import AdaProfile
import AdaTensor
import Foundation

/// A bundle directory opened for reading (docs/runtime.md, design.md §8): its manifest, its
/// lookup table, and the variants' Keras files, checked before anything runs.
///
///     let bundle = try ModelBundle.open("out/fmnist-bundle")
///     for v in bundle.manifest.variants { print(v.id, v.accuracy, v.latencyMs) }
///     let (model, quantized) = try bundle.loadVariant("v03")
///
/// `open` reads `manifest.json` and `lut.json` and checks, in this order: the directory exists and
/// is not empty; each file exists and is JSON of the right `format`; its `format_version` is not
/// newer than this code reads; every number is finite and in range; variant ids are unique and
/// each variant's `.h5` exists; every LUT row names a known variant and context. Each failure is an
/// `AdaError` naming the file and the field (`variants[2].latency_ms`). The variants' weights are
/// read only by `loadVariant`.
///
/// (Named `ModelBundle` rather than `Bundle` so that it does not clash with `Foundation.Bundle`
/// in files that import both.)
public struct ModelBundle: Sendable {
  /// The bundle directory as given to `open`.
  public let directory: String
  public let manifest: Manifest
  public let lut: LookupTable

  public static let manifestFile = "manifest.json"
  public static let lutFile = "lut.json"

  public init(directory: String, manifest: Manifest, lut: LookupTable) {
    self.directory = directory
    self.manifest = manifest
    self.lut = lut
  }

  /// Opens and checks the bundle at `directory` (see the type's documentation).
  public static func open(_ directory: String) throws(AdaError) -> ModelBundle {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: directory, isDirectory: &isDirectory) else {
      throw AdaError(
        .fileNotFound, file: directory, "bundle directory does not exist",
        hint: "give the directory `adascale compress` wrote (it holds manifest.json)")
    }
    guard isDirectory.boolValue else {
      throw AdaError(
        .badFormat, file: directory, "expected a bundle directory, found a file",
        hint: "a bundle is a directory holding manifest.json, lut.json and variants/")
    }
    let entries = (try? fm.contentsOfDirectory(atPath: directory)) ?? []
    guard !entries.isEmpty else {
      throw AdaError(
        .missing, file: directory,
        "bundle directory is empty; expected manifest.json, lut.json and variants/",
        hint: "the bundle may not have been written completely; run `adascale compress` again")
    }
    let manifest = try BundleJSON.decode(
      Manifest.self, file: path(directory, manifestFile), format: Manifest.formatName,
      version: Manifest.currentFormatVersion)
    let lut = try BundleJSON.decode(
      LookupTable.self, file: path(directory, lutFile), format: LookupTable.formatName,
      version: LookupTable.currentFormatVersion)
    let bundle = ModelBundle(directory: directory, manifest: manifest, lut: lut)
    try bundle.validate()
    return bundle
  }

  /// `directory/relative`.
  public static func path(_ directory: String, _ relative: String) -> String {
    URL(fileURLWithPath: directory).appendingPathComponent(relative).path
  }

  /// The manifest entry of variant `id`.
  public func variant(_ id: String) throws(AdaError) -> Manifest.Variant {
    guard let v = manifest.variants.first(where: { $0.id == id }) else {
      throw AdaError(
        .invalidValue, file: Self.path(directory, Self.manifestFile), path: "variants",
        "no variant '\(id)'; the bundle has \(manifest.variants.map(\.id).joined(separator: ", "))")
    }
    return v
  }

  /// Absolute path of variant `id`'s Keras `.h5`.
  public func variantPath(_ id: String) throws(AdaError) -> String {
    Self.path(directory, try variant(id).file)
  }

  /// Reads variant `id` (a Keras legacy `.h5`) with any quantized weights stored beside the float
  /// ones. Errors name the variant's file.
  public func loadVariant(_ id: String) throws(AdaError) -> (model: Model, quantized: QuantizedWeights) {
    let file = try variantPath(id)
    return try KerasModelReader.loadWithQuantized(path: file)
  }

  /// LUT rows of variant `id` (all devices and contexts).
  public func rows(variant id: String) -> [LookupTable.Row] { lut.rows.filter { $0.variant == id } }

  /// The manifest's named context `name`, if any.
  public func context(named name: String) -> NamedContext? {
    manifest.contexts.first { $0.name == name }
  }
}
