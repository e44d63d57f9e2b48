import AdaCore
import AdaIO
import AdaNN
import AdaTensor
import Foundation

/// Any Keras file a user brings: a `.keras` archive (`KerasArchiveReader`), a legacy `.h5` or a
/// `.weights.h5` with its architecture (`KerasModelReader`), chosen by content.
///
///     let model = try KerasFile.load(path: "mobilenet.keras")
///     let (model, quantized) = try KerasFile.loadWithQuantized(path: "bundle/variants/v01.h5")
public enum KerasFile {
  public static func load(path: String, config: String? = nil) throws(AdaError) -> Model {
    try FileStatus.requireRegularOrDirectory(path)
    let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 4)) ?? nil
    if FileManager.default.fileExists(atPath: path), KerasModelReader.isZipArchive(path: path, head: head) {
      return try KerasArchiveReader.load(path: path, config: config)
    }
    return try KerasModelReader.load(path: path, config: config)
  }

  /// `load(path:config:)`, plus the quantized weights adascale stored beside the float weights
  /// (empty for files without them, `.keras` archives among them).
  public static func loadWithQuantized(path: String, config: String? = nil) throws(AdaError) -> (
    model: Model, quantized: QuantizedWeights
  ) {
    let model = try load(path: path, config: config)
    return (model, try KerasQuantizedExtension.read(path: path, model: model))
  }
}
