import AdaTensor

/// How images are brought to a model's spatial size, as data (recipe `dataset.resize`, CLI
/// `--resize`). Matches what Keras users get:
///
/// - `bilinear`: `keras.ops.image.resize(x, size, interpolation="bilinear", antialias=False)`
///   (JAX backend: half-pixel centres, edge pixels repeated, no antialiasing when shrinking);
/// - `nearest`: `keras.ops.image.resize(x, size, interpolation="nearest")`: source index
///   `⌊(i + ½) · in / out⌋`;
/// - `pad`: zeros around the image, centred, the extra row/column at the bottom/right
///   (`keras.ops.image.pad_images` with top = ⌊(H' − H)/2⌋, left = ⌊(W' − W)/2⌋, like
///   `tf.image.resize_with_crop_or_pad`); the target must not be smaller than the image.
///
/// Resizing runs on pixel values before `PreprocessMode` (0–255 for uint8 data), as a Keras
/// user resizes and then calls `preprocess_input`.
///
///     let r = ImageResize(height: 32, width: 32, method: .bilinear)
///     let plan = r.plan(height: 28, width: 28)        // reusable per source size
public struct ImageResize: Codable, Hashable, Sendable, CustomStringConvertible {
  public enum Method: String, Codable, Hashable, Sendable, CaseIterable {
    case bilinear, nearest, pad
  }

  public var height: Int
  public var width: Int
  public var method: Method

  public init(height: Int, width: Int, method: Method = .bilinear) {
    self.height = height
    self.width = width
    self.method = method
  }

  /// `32x32 bilinear`.
  public var description: String { "\(height)x\(width) \(method.rawValue)" }

  /// The resampling of an `h × w` image to this size.
  public func plan(height h: Int, width w: Int) -> ResizePlan {
    ResizePlan(
      rows: Self.taps(from: h, to: height, method: method),
      columns: Self.taps(from: w, to: width, method: method), sourceHeight: h, sourceWidth: w)
  }

  /// For each output index along one axis, the source indices and weights it mixes (none:
  /// a zero from padding). Float32 throughout, in JAX's order of operations.
  static func taps(from n: Int, to m: Int, method: Method) -> [[(index: Int, weight: Float)]] {
    if n == m { return (0..<m).map { [($0, Float(1))] } }
    switch method {
    case .pad:
      precondition(m >= n, "ImageResize: pad cannot shrink \(n) to \(m)")
      let offset = (m - n) / 2
      return (0..<m).map { i in (offset..<(offset + n)).contains(i) ? [(i - offset, Float(1))] : [] }
    case .nearest:
      return (0..<m).map { i in
        let offset = (Float(i) + 0.5) * Float(n) / Float(m)
        return [(min(Int(offset.rounded(.down)), n - 1), Float(1))]
      }
    case .bilinear:
      // jax.image.scale_and_translate with the triangle kernel, antialias off.
      let inverseScale = 1 / (Float(m) / Float(n))
      return (0..<m).map { i in
        let sample = (Float(i) + 0.5) * inverseScale - 0.5
        var taps: [(index: Int, weight: Float)] = []
        var total: Float = 0
        for j in max(0, Int(sample.rounded(.down)) - 1)...min(n - 1, Int(sample.rounded(.down)) + 2) {
          let w = max(0, 1 - abs(sample - Float(j)))
          if w > 0 {
            taps.append((j, w))
            total += w
          }
        }
        return taps.map { ($0.index, $0.weight / total) }
      }
    }
  }
}

/// A precomputed resampling between two image sizes: per output row and column, which source
/// rows and columns it mixes with which weights. Separable: rows first, then columns (JAX's
/// order), so results agree with Keras to Float32 rounding.
public struct ResizePlan: Sendable {
  let rows: [[(index: Int, weight: Float)]]
  let columns: [[(index: Int, weight: Float)]]
  public let sourceHeight: Int
  public let sourceWidth: Int
  public var height: Int { rows.count }
  public var width: Int { columns.count }

  /// Resizes one `[H, W, C]` image into `[H', W', C]` `output`; `scratch` holds `H'·W·C` values.
  public func apply(
    _ input: UnsafeBufferPointer<Float>, channels c: Int, into output: UnsafeMutableBufferPointer<Float>,
    scratch: UnsafeMutableBufferPointer<Float>
  ) {
    let (w, h2, w2) = (sourceWidth, height, width)
    precondition(
      input.count >= sourceHeight * w * c && output.count >= h2 * w2 * c && scratch.count >= h2 * w * c)
    // Rows: scratch[y', x, k] = Σ wy · input[y, x, k].
    for (y2, taps) in rows.enumerated() {
      let dst = scratch.baseAddress! + y2 * w * c
      dst.update(repeating: 0, count: w * c)
      for (y, wy) in taps {
        let src = input.baseAddress! + y * w * c
        for i in 0..<(w * c) { dst[i] += wy * src[i] }
      }
    }
    // Columns: output[y', x', k] = Σ wx · scratch[y', x, k].
    for y2 in 0..<h2 {
      let src = scratch.baseAddress! + y2 * w * c
      let dst = output.baseAddress! + y2 * w2 * c
      for (x2, taps) in columns.enumerated() {
        for k in 0..<c {
          var s: Float = 0
          for (x, wx) in taps { s += wx * src[x * c + k] }
          dst[x2 * c + k] = s
        }
      }
    }
  }
}
