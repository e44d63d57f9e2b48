import AdaNN
import AdaTensor

/// A reusable batch: gathers examples of a dataset by index into tensors allocated once per
/// batch size (usually two: the full size and the last, partial batch of an epoch), so the step
/// loop converts each example exactly once, straight into the batch, and allocates no batch
/// tensors (only the small conversion tables of `LabeledDataset.gather`, and a read buffer for
/// streamed data).
///
/// Callers must not keep the returned tensor beyond the step (holding it would make the next
/// `fill` copy the storage instead of writing in place — correct, only slower).
///
///     var buffer = BatchBuffer(exampleShape: [28, 28, 1])
///     let x = try buffer.fill(from: data, indices: batch)   // [B, 28, 28, 1]
///     buffer.labels                                      // B class ids
public struct BatchBuffer: Sendable {
  /// Shape of one example, e.g. `[28, 28, 1]`.
  public let exampleShape: [Int]
  /// Labels of the last filled batch, in batch order.
  public private(set) var labels: [Int32] = []
  /// One images tensor per batch size seen, `[B] + exampleShape`.
  private var tensors: [Int: Tensor] = [:]
  /// Batch size of the last `fill`.
  private var current = 0

  public init(exampleShape: [Int]) {
    self.exampleShape = exampleShape
  }

  /// `[B] + exampleShape`, the images of the last filled batch.
  public var images: Tensor {
    guard let t = tensors[current] else { preconditionFailure("BatchBuffer: fill before reading images") }
    return t
  }

  /// Draws the examples at `indices` (in that order) into the buffer — converted to Float32
  /// and prepared (`LabeledDataset.gather`; streamed data is read from its file here) — and
  /// returns the images.
  @discardableResult
  public mutating func fill(from dataset: LabeledDataset, indices: ArraySlice<Int>) throws(AdaError) -> Tensor
  {
    precondition(
      dataset.exampleShape == exampleShape,
      "BatchBuffer: dataset examples are \(dataset.exampleShape), buffer holds \(exampleShape)")
    let b = indices.count
    var t = tensors.removeValue(forKey: b) ?? Tensor(shape: [b] + exampleShape)
    do {
      try t.scalars.withUnsafeMutableBufferPointer { (dst) throws(AdaError) in
        try dataset.gather(indices, into: dst)
      }
    } catch {
      tensors[b] = t
      throw error
    }
    labels.removeAll(keepingCapacity: true)
    for i in indices { labels.append(dataset.labels[i]) }
    tensors[b] = t
    current = b
    return t
  }

  /// Augments the images of the last filled batch in place.
  public mutating func augment(with augmenter: inout Augmenter, using g: inout SeededGenerator) {
    precondition(tensors[current] != nil, "BatchBuffer: fill before augmenting")
    augmenter.apply(to: &tensors[current]!, using: &g)
  }
}
