import AdaNN
import AdaTensor

/// The independent random streams of a training run. Each stream's generator is derived from
/// `(seed, stream, epoch, step)` alone — never from wall-clock time or global state — so a run
/// resumed at any step draws exactly the numbers an uninterrupted run would have drawn.
public enum RandomStream: UInt64, Sendable, CaseIterable {
  /// Order of the training examples in an epoch (`step` is unused, always 0).
  case shuffle = 1
  /// Crop offsets and flips of one batch.
  case augmentation = 2
  /// Dropout masks (and any other randomness inside layers) of one training step.
  case dropout = 3

  /// A seed for this stream at `(epoch, step)` under the run seed `seed`.
  public func seed(_ seed: UInt64, epoch: Int, step: Int) -> UInt64 {
    var h = mix(seed)
    h = mix(h ^ rawValue)
    h = mix(h ^ UInt64(truncatingIfNeeded: epoch))
    return mix(h ^ UInt64(truncatingIfNeeded: step))
  }

  /// A generator for this stream at `(epoch, step)`.
  public func generator(_ seed: UInt64, epoch: Int, step: Int) -> SeededGenerator {
    SeededGenerator(seed: self.seed(seed, epoch: epoch, step: step))
  }

  /// SplitMix64's finaliser: a bijective avalanche mix of 64 bits.
  private func mix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension SeededGenerator {
  /// Uniform in `0..<bound` by Lemire's multiply-high (bias below 2⁻³² for small bounds).
  /// Spelled out rather than `Int.random(in:using:)` so results never change with the Swift
  /// standard library's algorithm.
  public mutating func nextIndex(below bound: Int) -> Int {
    precondition(bound > 0, "nextIndex: bound must be positive")
    return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
  }
}

/// Which examples form each batch of each epoch.
///
/// The validation split takes the *last* `validationFraction` of the examples, before any
/// shuffling (Keras `validation_split`; `LabeledDataset.split` rounds the same way). The training
/// examples are reshuffled every epoch with a Fisher–Yates shuffle driven by
/// `RandomStream.shuffle` at `(seed, epoch)`; the last batch of an epoch may be smaller.
///
///     let s = EpochSampler(count: 60_000, validationFraction: 0.1, batchSize: 64, seed: 7)
///     let order = s.order(epoch: 3)          // same for every run with seed 7
///     let batch = s.batch(3, of: order)      // ArraySlice of example indices
public struct EpochSampler: Sendable {
  /// Example indices used for training, in dataset order.
  public let trainIndices: [Int]
  /// Example indices held out for validation, in dataset order.
  public let validationIndices: [Int]
  public let batchSize: Int
  public let seed: UInt64

  public init(count: Int, validationFraction: Double, batchSize: Int, seed: UInt64) {
    precondition(batchSize > 0, "EpochSampler: batch size must be positive")
    precondition(validationFraction >= 0 && validationFraction < 1, "EpochSampler: fraction in [0, 1)")
    let nVal = Int((Double(count) * validationFraction).rounded())
    trainIndices = Array(0..<(count - nVal))
    validationIndices = Array((count - nVal)..<count)
    self.batchSize = batchSize
    self.seed = seed
  }

  /// Batches per epoch, counting a final partial batch.
  public var stepsPerEpoch: Int { (trainIndices.count + batchSize - 1) / batchSize }

  /// The training examples in the order epoch `epoch` visits them.
  public func order(epoch: Int) -> [Int] {
    var order = trainIndices
    var g = RandomStream.shuffle.generator(seed, epoch: epoch, step: 0)
    var i = order.count - 1
    while i > 0 {
      let j = g.nextIndex(below: i + 1)
      order.swapAt(i, j)
      i -= 1
    }
    return order
  }

  /// The example indices of batch `step` of an epoch's order.
  public func batch(_ step: Int, of order: [Int]) -> ArraySlice<Int> {
    precondition(step >= 0 && step < stepsPerEpoch, "EpochSampler: step \(step) out of 0..<\(stepsPerEpoch)")
    return order[(step * batchSize)..<min((step + 1) * batchSize, order.count)]
  }
}
