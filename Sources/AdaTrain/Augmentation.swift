import AdaNN
import AdaTensor

/// Image augmentation for training batches (NHWC), as data.
///
/// - `cropPadding = p > 0`: zero-pad each image by `p` on every side, then crop a random H×W
///   window (offsets uniform in `0...2p` per axis). Equivalently, shift the image by
///   `(dy, dx) ∈ [−p, p]²` and fill what enters with zeros.
/// - `horizontalFlip`: mirror each image left–right with probability ½.
public struct AugmentationConfig: Codable, Hashable, Sendable {
  public var cropPadding: Int
  public var horizontalFlip: Bool

  public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
    self.cropPadding = cropPadding
    self.horizontalFlip = horizontalFlip
  }

  public static let none = AugmentationConfig()

  public var isEnabled: Bool { cropPadding > 0 || horizontalFlip }
}

/// Applies an `AugmentationConfig` to a batch in place, with a reusable scratch image.
///
/// Per example, in batch order, it draws `dy`, `dx` (when cropping) and then a flip bit (when
/// flipping) from the generator it is given; the trainer derives that generator from
/// `(seed, epoch, step)` (`RandomStream.augmentation`), so a batch's augmentation never depends on
/// what ran before it.
public struct Augmenter: Sendable {
  public let config: AugmentationConfig
  private var scratch: [Float] = []

  public init(config: AugmentationConfig) {
    self.config = config
  }

  /// Augments every image of `batch` (`[N, H, W, C]`) in place.
  public mutating func apply(to batch: inout Tensor, using g: inout SeededGenerator) {
    guard config.isEnabled else { return }
    precondition(batch.rank == 4, "Augmenter: expects [N, H, W, C], got \(batch.shape)")
    let (n, h, w, c) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
    let p = config.cropPadding
    if scratch.count != h * w * c { scratch = [Float](repeating: 0, count: h * w * c) }
    batch.scalars.withUnsafeMutableBufferPointer { all in
      scratch.withUnsafeMutableBufferPointer { tmp in
        for i in 0..<n {
          let image = UnsafeMutableBufferPointer(rebasing: all[(i * h * w * c)..<((i + 1) * h * w * c)])
          if p > 0 {
            let dy = g.nextIndex(below: 2 * p + 1) - p
            let dx = g.nextIndex(below: 2 * p + 1) - p
            Self.shift(image, height: h, width: w, channels: c, dy: dy, dx: dx, scratch: tmp)
          }
          if config.horizontalFlip && g.next() >> 63 == 1 {
            Self.flipHorizontally(image, height: h, width: w, channels: c)
          }
        }
      }
    }
  }

  /// `out[y, x] = in[y + dy, x + dx]`, zero where that falls outside the image (a crop at offset
  /// `(p + dy, p + dx)` of the image zero-padded by `p`). Copies whole row segments.
  /// `image` and `scratch` are `H·W·C` each; `scratch` is overwritten.
  public static func shift(
    _ image: UnsafeMutableBufferPointer<Float>, height h: Int, width w: Int, channels c: Int,
    dy: Int, dx: Int, scratch: UnsafeMutableBufferPointer<Float>
  ) {
    if dy == 0 && dx == 0 { return }
    let src = scratch.baseAddress!
    let dst = image.baseAddress!
    src.update(from: dst, count: h * w * c)
    // Columns x with 0 ≤ x + dx < w: [x0, x1).
    let x0 = max(0, -dx)
    let x1 = min(w, w - dx)
    for y in 0..<h {
      let row = dst + y * w * c
      let sy = y + dy
      guard sy >= 0 && sy < h && x0 < x1 else {
        row.update(repeating: 0, count: w * c)
        continue
      }
      row.update(repeating: 0, count: x0 * c)
      (row + x0 * c).update(from: src + (sy * w + x0 + dx) * c, count: (x1 - x0) * c)
      (row + x1 * c).update(repeating: 0, count: (w - x1) * c)
    }
  }

  /// Plain-loop reference for `shift`, on one `[H, W, C]` image.
  public static func shiftReference(
    _ image: [Float], height h: Int, width w: Int, channels c: Int, dy: Int, dx: Int
  ) -> [Float] {
    var out = [Float](repeating: 0, count: h * w * c)
    for y in 0..<h {
      for x in 0..<w {
        let (sy, sx) = (y + dy, x + dx)
        guard sy >= 0 && sy < h && sx >= 0 && sx < w else { continue }
        for k in 0..<c { out[(y * w + x) * c + k] = image[(sy * w + sx) * c + k] }
      }
    }
    return out
  }

  /// Mirrors one `[H, W, C]` image left–right in place (swapping whole pixels).
  public static func flipHorizontally(
    _ image: UnsafeMutableBufferPointer<Float>, height h: Int, width w: Int, channels c: Int
  ) {
    for y in 0..<h {
      let row = image.baseAddress! + y * w * c
      var (a, b) = (0, w - 1)
      while a < b {
        for k in 0..<c {
          let t = row[a * c + k]
          row[a * c + k] = row[b * c + k]
          row[b * c + k] = t
        }
        a += 1
        b -= 1
      }
    }
  }
}
