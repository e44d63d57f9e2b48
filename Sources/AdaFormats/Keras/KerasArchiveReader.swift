import AdaIO
import AdaNN
import AdaTensor
import Foundation
import ZIPFoundation

/// Reads a Keras 3 `.keras` archive (zip): `config.json` and `model.weights.h5` are unzipped in
/// memory, the weights opened as an in-memory HDF5 image, and the model assembled by the same
/// `KerasModelReader.build` as an `.h5`. Errors inside a member name the `.keras` file, with the
/// member in the path (`model.weights.h5:/layers/dense/vars/0`).
///
/// The zip is read from a file, never from memory: ZIPFoundation's in-memory archive traps
/// (`Range requires lowerBound <= upperBound`, a crash) when a damaged directory points past the
/// end of the data, where reading a file just comes up short and is an error (found by
/// fuzz-keras; `Tests/Fixtures/fuzz/keras-zip-offset-past-the-end.keras`).
public enum KerasArchiveReader {
  /// The model in the `.keras` archive at `path`; `config` replaces its `config.json`.
  public static func load(path: String, config: String? = nil) throws(AdaError) -> Model {
    do {
      return try loadArchiveMembers(url: URL(fileURLWithPath: path), path: path, config: config)
    } catch {
      var e = error
      if let f = e.file, f.hasPrefix(path + ":") {
        let member = String(f.dropFirst(path.count + 1))
        e.file = path
        e.path = member + (e.path.map { ":" + $0 } ?? "")
      }
      throw e
    }
  }

  /// A `.keras` held in memory: written to a temporary file (removed again) and read as
  /// `load(path:)` reads one; errors name `name`.
  ///
  ///     let model = try KerasArchiveReader.load(data: upload, name: "upload.keras")
  public static func load(data: Data, name: String, config: String? = nil) throws(AdaError) -> Model {
    var template = Array((NSTemporaryDirectory() + "/adascale-keras-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else {
      throw AdaError(.writeFailed, file: name, "cannot make a temporary copy of the .keras data")
    }
    let temporary = String(cString: template)
    defer { unlink(temporary) }
    let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    guard written == data.count else {
      throw AdaError(.writeFailed, file: name, "cannot make a temporary copy of the .keras data")
    }
    do {
      return try load(path: temporary, config: config)
    } catch {
      var e = error
      if e.file == temporary { e.file = name }
      throw e
    }
  }

  private static func loadArchiveMembers(url: URL, path: String, config: String?) throws(AdaError) -> Model {
    let archive: Archive
    do {
      archive = try Archive(url: url, accessMode: .read)
    } catch {
      throw AdaError(.badFormat, file: path, "not a readable .keras (zip) file: \(error)")
    }
    func member(_ name: String) throws(AdaError) -> Data {
      guard let entry = archive[name] else {
        throw AdaError(.badFormat, file: path, path: name, "the .keras archive has no \(name)")
      }
      var data = Data()
      do {
        _ = try archive.extract(entry, consumer: { data.append($0) })
      } catch {
        throw AdaError(.badFormat, file: path, path: name, "cannot extract from the .keras archive: \(error)")
      }
      return data
    }
    let configText: String
    let configFile: String
    if let config {
      (configText, configFile) = (try KerasModelReader.readText(config), config)
    } else {
      configText = String(decoding: try member("config.json"), as: UTF8.self)
      configFile = "\(path):config.json"
    }
    let weights = try HDF5File.open(image: try member("model.weights.h5"), name: "\(path):model.weights.h5")
    let version: String? = (try? member("metadata.json")).flatMap { data in
      (try? JSONValue.parse(String(decoding: data, as: UTF8.self), file: nil, path: nil))?["keras_version"]?
        .string
    }
    return try KerasModelReader.build(
      file: weights, configText: configText, configFile: configFile,
      kerasVersion: version ?? "3", errorFile: path)
  }
}
