import AdaTensor

/// Examples with integer class labels, in memory.
///
/// `images` is `[N, H, W, C]` (or `[N, F]` for feature vectors), Float32, usually scaled to [0, 1].
public struct LabeledDataset: Sendable {
  public var name: String
  public var images: Tensor
  /// One label per example, each in `0..<classCount`.
  public var labels: [Int32]
  public var classCount: Int

  public init(name: String, images: Tensor, labels: [Int32], classCount: Int) {
    precondition(
      images.rank >= 2 && images.shape[0] == labels.count,
      "LabeledDataset: \(images.shape[0]) examples but \(labels.count) labels")
    self.name = name
    self.images = images
    self.labels = labels
    self.classCount = classCount
  }

  public var count: Int { labels.count }
  /// Shape of one example, e.g. `[28, 28, 1]`.
  public var exampleShape: [Int] { Array(images.shape.dropFirst()) }

  /// The examples at `indices`, in that order (for batching and splits).
  public func subset(_ indices: [Int], name: String? = nil) -> LabeledDataset {
    let inner = exampleShape.elementCount
    var scalars = [Float](repeating: 0, count: indices.count * inner)
    images.scalars.withUnsafeBufferPointer { src in
      scalars.withUnsafeMutableBufferPointer { dst in
        for (row, i) in indices.enumerated() {
          let from = src.baseAddress! + i * inner
          (dst.baseAddress! + row * inner).update(from: from, count: inner)
        }
      }
    }
    return LabeledDataset(
      name: name ?? self.name, images: Tensor(shape: [indices.count] + exampleShape, scalars: scalars),
      labels: indices.map { labels[$0] }, classCount: classCount)
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
    return LabeledDataset(
      name: name, images: images.reshaped([count] + shape), labels: labels, classCount: classCount)
  }
}
