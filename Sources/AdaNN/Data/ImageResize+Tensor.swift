import AdaTensor

extension ImageResize {
  /// A batch of images `[N, H, W, C]` at this size `[N, height, width, C]` (the input itself when
  /// it already has it): what the runtime does when a variant takes smaller images than the
  /// app gives (elastic resolution). Bilinear and nearest are linear per channel, so resizing
  /// after `PreprocessMode` equals resizing before it up to rounding.
  public func resizing(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4, "ImageResize: expected [N, H, W, C] images, got \(x.shape)")
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    if h == height && w == width { return x }
    let plan = plan(height: h, width: w)
    var out = Tensor(shape: [n, height, width, c])
    var scratch = [Float](repeating: 0, count: height * w * c)
    x.scalars.withUnsafeBufferPointer { xb in
      out.scalars.withUnsafeMutableBufferPointer { ob in
        scratch.withUnsafeMutableBufferPointer { sb in
          for b in 0..<n {
            let input = UnsafeBufferPointer(rebasing: xb[(b * h * w * c)..<((b + 1) * h * w * c)])
            let output = UnsafeMutableBufferPointer(
              rebasing: ob[(b * height * width * c)..<((b + 1) * height * width * c)])
            plan.apply(input, channels: c, into: output, scratch: sb)
          }
        }
      }
    }
    return out
  }
}
