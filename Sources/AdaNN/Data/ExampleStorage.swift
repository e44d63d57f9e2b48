import AdaTensor

/// Where a dataset's examples live, as stored (before `ExamplePreparation`):
///
/// - `bytes`: uint8 pixels 0–255 in memory (Fashion-MNIST, uint8 HDF5 files): a quarter of the
///   memory of Float32; batches are converted when drawn;
/// - `floats`: Float32 values in memory, used as stored (float HDF5 files, tensors made in code);
/// - `streamed`: read from a file a batch at a time (`ExampleReader`), for data larger than the
///   memory budget; `rows` maps example `i` to the reader's row `rows[i]` (nil: the identity).
public enum ExampleStorage: Sendable {
  case bytes([UInt8])
  case floats([Float])
  case streamed(any ExampleReader, rows: [Int]?)

  /// Whether the stored values are 0–255 pixels (so every `PreprocessMode` applies).
  public var holdsPixels: Bool {
    switch self {
    case .bytes: true
    case .floats: false
    case .streamed(let reader, _): reader.element == .uint8
    }
  }

  /// Bytes held in memory by the example values (0 for streamed data).
  public var residentBytes: Int {
    switch self {
    case .bytes(let b): b.count
    case .floats(let f): f.count * MemoryLayout<Float>.size
    case .streamed(_, let rows): (rows?.count ?? 0) * MemoryLayout<Int>.size
    }
  }
}

/// The element type of stored examples.
public enum ExampleElement: String, Codable, Hashable, Sendable {
  case uint8, float32

  public var byteCount: Int { self == .uint8 ? 1 : 4 }
}

/// Reads rows of examples from outside memory (an HDF5 dataset: `HDF5ExampleReader` in AdaIO).
public protocol ExampleReader: Sendable {
  /// Examples in the source.
  var count: Int { get }
  /// Shape of one stored example, e.g. `[28, 28, 1]`.
  var exampleShape: [Int] { get }
  var element: ExampleElement { get }
  /// A stable description of the source for configuration hashes and errors: file, dataset,
  /// size and modification time (the values are not hashed: that would read the whole file).
  var identity: String { get }
  /// Reads the rows `rows` (ascending, distinct) into `buffer`, one after another, each
  /// `exampleShape.elementCount · element.byteCount` bytes. Float data is checked to be finite.
  func read(rows: [Int], into buffer: UnsafeMutableRawBufferPointer) throws(AdaError)
}
