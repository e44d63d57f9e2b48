import AdaTensor

/// Examples with integer class labels.
///
/// The examples are kept as stored (`ExampleStorage`: uint8 pixels, Float32 values, or rows
/// streamed from a file) and become Float32 model inputs when a batch is drawn (`gather`),
/// through the dataset's `ExamplePreparation` (resize, channels, `PreprocessMode`; uint8 pixels
/// become x/255 by default). `exampleShape` is the shape of one drawn example: `[H, W, C]`
/// images or `[F]` feature vectors.
///
///     let d = LabeledDataset(name: "demo", pixels: bytes, exampleShape: [28, 28, 1], labels: y, classCount: 10)
///     let rgb = try d.preparing(ExamplePreparation(resize: ImageResize(height: 32, width: 32), channels: 3))
///     let x = try rgb.examples(at: [0, 1])              // [2, 32, 32, 3] in [0, 1]
public struct LabeledDataset: Sendable {
  public var name: String
  /// One label per example, each in `0..<classCount`.
  public var labels: [Int32]
  public var classCount: Int
  public private(set) var storage: ExampleStorage
  /// Shape of one example as stored, e.g. `[28, 28, 1]`.
  public private(set) var storedShape: [Int]
  public internal(set) var preparation: ExamplePreparation
  /// Shape of one example as drawn (after the preparation and any `reshapingExamples`).
  public internal(set) var exampleShape: [Int]

  init(
    name: String, storage: ExampleStorage, storedShape: [Int], preparation: ExamplePreparation,
    exampleShape: [Int], labels: [Int32], classCount: Int
  ) {
    self.name = name
    self.storage = storage
    self.storedShape = storedShape
    self.preparation = preparation
    self.exampleShape = exampleShape
    self.labels = labels
    self.classCount = classCount
  }

  /// Float32 examples `[N, …]`, used as stored.
  public init(name: String, images: Tensor, labels: [Int32], classCount: Int) {
    precondition(
      images.rank >= 2 && images.shape[0] == labels.count,
      "LabeledDataset: \(images.shape.first ?? 0) examples but \(labels.count) labels")
    let shape = Array(images.shape.dropFirst())
    self.init(
      name: name, storage: .floats(images.scalars), storedShape: shape, preparation: .none,
      exampleShape: shape, labels: labels, classCount: classCount)
  }

  /// uint8 pixels (0–255), `labels.count` examples of `exampleShape`, drawn as x/255 unless
  /// prepared otherwise.
  public init(name: String, pixels: [UInt8], exampleShape: [Int], labels: [Int32], classCount: Int) {
    precondition(
      !exampleShape.isEmpty && pixels.count == labels.count * exampleShape.elementCount,
      "LabeledDataset: \(pixels.count) bytes are not \(labels.count) examples of \(exampleShape)")
    self.init(
      name: name, storage: .bytes(pixels), storedShape: exampleShape, preparation: .none,
      exampleShape: exampleShape, labels: labels, classCount: classCount)
  }

  /// Examples read from `reader` a batch at a time (one label per reader row).
  public init(name: String, reader: any ExampleReader, labels: [Int32], classCount: Int) {
    precondition(
      reader.count == labels.count, "LabeledDataset: \(reader.count) rows but \(labels.count) labels")
    self.init(
      name: name, storage: .streamed(reader, rows: nil), storedShape: reader.exampleShape,
      preparation: .none, exampleShape: reader.exampleShape, labels: labels, classCount: classCount)
  }

  public var count: Int { labels.count }

  /// Whether examples are read from a file per batch rather than held in memory.
  public var isStreamed: Bool {
    if case .streamed = storage { true } else { false }
  }

  /// The examples at `indices`, in that order (for splits). In-memory data is copied (as stored,
  /// so uint8 stays uint8); streamed data becomes a view of the same file.
  public func subset(_ indices: [Int], name: String? = nil) -> LabeledDataset {
    let inner = storedShape.elementCount
    let selected: ExampleStorage
    switch storage {
    case .bytes(let b): selected = .bytes(Self.rows(of: b, indices, inner: inner))
    case .floats(let f): selected = .floats(Self.rows(of: f, indices, inner: inner))
    case .streamed(let reader, let rows): selected = .streamed(reader, rows: indices.map { rows?[$0] ?? $0 })
    }
    return LabeledDataset(
      name: name ?? self.name, storage: selected, storedShape: storedShape, preparation: preparation,
      exampleShape: exampleShape, labels: indices.map { labels[$0] }, classCount: classCount)
  }

  static func rows<T>(of values: [T], _ indices: [Int], inner: Int) -> [T] {
    [T](unsafeUninitializedCapacity: indices.count * inner) { dst, initialized in
      values.withUnsafeBufferPointer { src in
        for (row, i) in indices.enumerated() {
          precondition(
            i >= 0 && i < values.count / max(inner, 1), "LabeledDataset.subset: index \(i) out of range")
          (dst.baseAddress! + row * inner).initialize(from: src.baseAddress! + i * inner, count: inner)
        }
      }
      initialized = indices.count * inner
    }
  }

  /// Splits off the last `fraction` of examples (after no shuffling) as a validation set.
  public func split(validationFraction fraction: Double) -> (
    train: LabeledDataset, validation: LabeledDataset
  ) {
    let nVal = Int((Double(count) * fraction).rounded())
    let cut = count - nVal
    return (subset(Array(0..<cut), name: name + "-train"), subset(Array(cut..<count), name: name + "-val"))
  }
}

extension LabeledDataset {
  /// The same examples with `preparation` applied when drawn. Throws (paths `resize`,
  /// `channels`, `preprocess`) when it does not fit the stored examples.
  public func preparing(_ preparation: ExamplePreparation) throws(AdaError) -> LabeledDataset {
    precondition(self.preparation.isIdentity, "LabeledDataset: the dataset is already prepared")
    var d = self
    d.preparation = preparation
    d.exampleShape = try preparation.outputShape(for: storedShape, pixels: storage.holdsPixels)
    return d
  }

  /// The same examples viewed with another per-example shape of equal size (e.g. `[28, 28, 1]`
  /// images for a model whose input is `[784]`). Throws `.badShape` when the sizes differ.
  public func reshapingExamples(to shape: [Int]) throws(AdaError) -> LabeledDataset {
    if shape == exampleShape { return self }
    guard shape.elementCount == exampleShape.elementCount else {
      throw AdaError(
        .badShape, path: name,
        "examples have shape \(exampleShape) (\(exampleShape.elementCount) values), the model expects \(shape)"
      )
    }
    var d = self
    d.exampleShape = shape
    return d
  }

  /// The examples prepared and shaped for a model whose input is `inputShape`: `preparation`
  /// applied, then a reshape when only the layout differs (`[28, 28, 1]` → `[784]`). When the
  /// sizes differ, `.badShape` at path `dataset` naming both shapes and the settings that would
  /// fix it (errors of the preparation itself keep their `resize`/`channels`/`preprocess` path).
  public func fitted(to inputShape: [Int], preparation: ExamplePreparation) throws(AdaError) -> LabeledDataset
  {
    let prepared = try preparing(preparation)
    if prepared.exampleShape.elementCount == inputShape.elementCount {
      return try prepared.reshapingExamples(to: inputShape)
    }
    var fixes: [String] = []
    if inputShape.count == 3, prepared.exampleShape.count == 3 {
      if inputShape[0...1] != prepared.exampleShape[0...1] {
        fixes.append("resize: {size: [\(inputShape[0]), \(inputShape[1])], method: bilinear}")
      }
      if inputShape[2] != prepared.exampleShape[2] { fixes.append("channels: \(inputShape[2])") }
    }
    throw AdaError(
      .badShape, path: "dataset",
      "examples are \(storedShape)\(preparation.isIdentity ? "" : " (\(prepared.exampleShape) after preparation)"), "
        + "the model's input is \(inputShape)",
      hint: fixes.isEmpty ? nil : "set \(fixes.joined(separator: " and ")) (datasets/README.md)")
  }
}
