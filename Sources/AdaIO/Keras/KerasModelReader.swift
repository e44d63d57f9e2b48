import AdaNN
import AdaTensor
import Foundation

/// Reads Keras HDF5 files into an adascale `Model` (graph + parameters): what a bundle's
/// variants are, and all an app's runtime needs. `.keras` archives (zip) are read by
/// `KerasFile` in AdaFormats, which shares `build` with this reader.
///
/// Two layouts, chosen by what the HDF5 file holds:
/// - legacy `.h5` (`model.save("m.h5")`, Keras 2 and 3): root attribute `model_config`,
///   weights under `model_weights/`;
/// - `.weights.h5` (Keras 3 `save_weights`): `layers/<snake_class>[_k]/vars/<i>`, with the
///   architecture from `config` (a JSON file as written by `model.to_json()` or found in a
///   `.keras`); without `config`, `NAME.config.json` or `config.json` beside the file is used.
///
/// Every error is an `AdaError` naming the file and the layer or HDF5 path.
///
///     let model = try KerasModelReader.load(path: "mobilenet.h5")
///     let same = try KerasModelReader.load(path: "m.weights.h5", config: "m.config.json")
public enum KerasModelReader {
  public static func load(path: String, config: String? = nil) throws(AdaError) -> Model {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
    else {
      throw AdaError(.fileNotFound, file: path, "model file does not exist")
    }
    let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 4)) ?? nil
    if isZipArchive(path: path, head: head) {
      throw AdaError(
        .unsupported, file: path, "a .keras archive (zip); KerasModelReader reads Keras HDF5 files only",
        hint: "read it with KerasFile.load (AdaFormats), or save the model as .h5")
    }
    return try loadHDF5(try HDF5File.open(path), config: config, siblingConfig: siblingConfig(of: path))
  }

  /// A legacy `.h5` model (or `.weights.h5` with `config`) held in memory, as `load(path:)`
  /// reads a file; `name` is used in errors. No sibling config file is looked for.
  ///
  ///     let model = try KerasModelReader.load(h5Image: bytes, name: "upload.h5")
  public static func load(h5Image: Data, name: String, config: String? = nil) throws(AdaError) -> Model {
    try loadHDF5(try HDF5File.open(image: h5Image, name: name), config: config, siblingConfig: nil)
  }

  /// The graph a Keras architecture JSON (`model.to_json()`, a `.keras` file's `config.json`)
  /// describes, without weights; errors name `file`.
  public static func graph(configJSON text: String, file: String, kerasVersion: String? = "3")
    throws(AdaError)
    -> Graph
  {
    let json = try JSONValue.parse(text, file: file, path: "model_config")
    return try KerasArchitecture(json: json, file: file, kerasVersion: kerasVersion).graph
  }

  static func loadHDF5(_ file: HDF5File, config: String?, siblingConfig: String?) throws(AdaError) -> Model {
    let path = file.path
    let configJSON: (text: String, file: String)
    if let config {
      configJSON = (try readText(config), config)
    } else if try file.root.hasAttribute("model_config") {
      configJSON = (try file.root.readString(attribute: "model_config"), path)
    } else if let sibling = siblingConfig {
      configJSON = (try readText(sibling), sibling)
    } else {
      throw AdaError(
        .missing, file: path, path: "model_config",
        "file holds weights but no model architecture",
        hint: "pass the architecture JSON (model.to_json()) as the config, or save with model.save(\"m.h5\")")
    }
    let version = try? file.root.readString(attribute: "keras_version")
    return try build(
      file: file, configText: configJSON.text, configFile: configJSON.file,
      kerasVersion: version, errorFile: path)
  }

  /// A `.keras` name or zip magic bytes.
  package static func isZipArchive(path: String, head: Data?) -> Bool {
    path.hasSuffix(".keras") || head.map({ Array($0) == [0x50, 0x4b, 0x03, 0x04] }) == true
  }

  /// Decodes the architecture, finds the weights, assembles and validates the model.
  package static func build(
    file: HDF5File, configText: String, configFile: String, kerasVersion: String?, errorFile: String
  ) throws(AdaError) -> Model {
    let json = try JSONValue.parse(configText, file: configFile, path: "model_config")
    let architecture = try KerasArchitecture(json: json, file: configFile, kerasVersion: kerasVersion)
    let root = file.root
    let parameters: Parameters
    if try root.kind(of: "model_weights") == .group {
      parameters = try KerasWeightMapping.parameters(
        architecture: architecture, source: LegacyH5WeightSource(group: try root.group("model_weights")),
        file: file.path)
    } else if try root.readSplitStrings(attribute: "layer_names") != nil {
      parameters = try KerasWeightMapping.parameters(
        architecture: architecture, source: LegacyH5WeightSource(group: root), file: file.path)
    } else if root.contains("layers") || root.contains("vars") {
      let source = try KerasV3WeightSource(root: root, modelLayers: architecture.modelLayerOrder)
      parameters = try KerasWeightMapping.parameters(
        architecture: architecture, source: source, file: file.path)
    } else {
      throw AdaError(
        .badFormat, file: file.path,
        "no Keras weights found (expected model_weights/, a layer_names attribute, or layers/)")
    }
    let model = Model(graph: architecture.graph, parameters: parameters)
    do {
      try model.validate()
    } catch {
      throw error.inFile(errorFile)
    }
    return model
  }

  package static func readText(_ path: String) throws(AdaError) -> String {
    guard FileManager.default.fileExists(atPath: path) else {
      throw AdaError(.fileNotFound, file: path, "config file does not exist")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw AdaError(.badFormat, file: path, "cannot read config file")
    }
    return String(decoding: data, as: UTF8.self)
  }

  /// `NAME.config.json` beside `NAME.weights.h5` (or `NAME.h5`), else `config.json` there.
  static func siblingConfig(of path: String) -> String? {
    let url = URL(fileURLWithPath: path)
    var stem = url.lastPathComponent
    for suffix in [".weights.h5", ".h5", ".hdf5"] where stem.hasSuffix(suffix) {
      stem = String(stem.dropLast(suffix.count))
      break
    }
    let dir = url.deletingLastPathComponent()
    for candidate in ["\(stem).config.json", "config.json"] {
      let p = dir.appendingPathComponent(candidate).path
      if FileManager.default.fileExists(atPath: p) { return p }
    }
    return nil
  }
}
