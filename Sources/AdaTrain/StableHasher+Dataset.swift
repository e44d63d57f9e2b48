import AdaCore
import AdaNN
import AdaTensor

extension StableHasher {
  /// A dataset's examples as drawn: the prepared Float32 values in example order, hashed a
  /// chunk at a time (the same digest as `combine(dataset.images.scalars)`, without holding all
  /// of them as floats). A streamed dataset contributes its source's identity (file, dataset,
  /// size, modification time), its rows and its preparation instead: hashing the values would
  /// read the whole file.
  public mutating func combine(examplesOf d: LabeledDataset) {
    if case .streamed(let reader, let rows) = d.storage {
      combine("streamed")
      combine(reader.identity)
      combine(json: rows)
      combine(json: d.preparation)
      combine(json: d.exampleShape)
      return
    }
    let inner = d.exampleShape.elementCount
    let chunk = max(1, (1 << 20) / max(inner, 1))
    var buffer = [Float](repeating: 0, count: chunk * inner)
    var total = 0
    for start in stride(from: 0, to: d.count, by: chunk) {
      let n = min(chunk, d.count - start)
      buffer.withUnsafeMutableBufferPointer { p in
        do {
          try d.gather(start..<(start + n), into: p)
        } catch {
          preconditionFailure("StableHasher: in-memory gather failed: \(error)")
        }
      }
      buffer.withUnsafeBufferPointer { p in combineFloats(UnsafeBufferPointer(rebasing: p[0..<(n * inner)])) }
      total += n * inner
    }
    combine(UInt64(total))
  }
}
