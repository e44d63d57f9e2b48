/// Counts the bytes of activations an inference path holds: each node's output when it is
/// produced, until it is freed. `peakBytes` is the most held at once, `totalBytes` all that was
/// ever produced. The graph input (the caller's tensor) is not counted; outputs count until the
/// end of the pass.
///
///     var meter = ActivationMeter()
///     _ = try exec.predict(x, parameters: p, meter: &meter)
///     print(meter.peakBytes, meter.totalBytes)
///
/// A node's output is counted at the size it was produced with, also when the exit path later
/// drops rows from it in place: the buffer keeps its capacity until it is freed.
public struct ActivationMeter: Hashable, Sendable {
  /// Bytes held now.
  public private(set) var liveBytes = 0
  /// The most bytes held at once.
  public private(set) var peakBytes = 0
  /// Bytes of every activation produced.
  public private(set) var totalBytes = 0
  /// Activations produced.
  public private(set) var allocations = 0

  public init() {}

  /// A new activation of `bytes` bytes.
  public mutating func allocate(_ bytes: Int) {
    liveBytes += bytes
    totalBytes += bytes
    allocations += 1
    peakBytes = max(peakBytes, liveBytes)
  }

  /// An activation of `bytes` bytes freed.
  public mutating func release(_ bytes: Int) {
    precondition(bytes <= liveBytes, "ActivationMeter: releasing \(bytes) of \(liveBytes) live bytes")
    liveBytes -= bytes
  }

  /// Bytes of a Float32 tensor of `count` elements.
  @inlinable public static func bytes(_ count: Int) -> Int { count * MemoryLayout<Float>.size }
}
