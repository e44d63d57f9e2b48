/// The model file formats adascale writes: Keras legacy `.h5` (what adascale and Keras read
/// back) and ONNX (`.onnx`, what onnxruntime and mobile runtimes run; written by AdaONNX).
/// Recipes name them in `output.formats`; the bundle ships each variant in every listed one.
public enum ModelFileFormat: String, Codable, Hashable, Sendable, CaseIterable {
  case keras, onnx

  /// File extension, with the dot.
  public var fileExtension: String {
    switch self {
    case .keras: ".h5"
    case .onnx: ".onnx"
    }
  }
}
