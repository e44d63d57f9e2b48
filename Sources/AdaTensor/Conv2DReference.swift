/// Direct 2-D convolution (NHWC, groups = 1) written straight from the definition, one multiply
/// at a time. It shares no code with the fast path (im2col + GEMM) and exists so tests can hold
/// the two equal; it is far too slow for real use.
///
///     y[n, oh, ow, f] = Σ_{i, j, c} x[n, oh·sh − padTop + i·dh, ow·sw − padLeft + j·dw, c] · k[i, j, c, f]
///
/// with out-of-range input pixels read as zero. Bias and activation are not applied.
public enum Conv2DReference {
  /// `x` `[N, H, W, C]`, `kernel` `[kh, kw, C, F]` → `[N, OH, OW, F]`.
  public static func forward(_ x: Tensor, kernel: Tensor, geometry g: ConvGeometry) -> Tensor {
    let (n, c, f) = checkShapes(x, kernel, g)
    var y = Tensor(shape: [n, g.outputHeight, g.outputWidth, f])
    g.forEachTap(batch: n) { b, oh, ow, i, j, ih, iw in
      for o in 0..<f {
        var acc: Float = 0
        for ch in 0..<c { acc += x[b, ih, iw, ch] * kernel[i, j, ch, o] }
        y[b, oh, ow, o] += acc
      }
    }
    return y
  }

  /// Gradients `(dx [N, H, W, C], dkernel [kh, kw, C, F])` for `dy` `[N, OH, OW, F]`.
  public static func backward(
    _ dy: Tensor, input x: Tensor, kernel: Tensor, geometry g: ConvGeometry
  ) -> (dx: Tensor, dKernel: Tensor) {
    let (n, c, f) = checkShapes(x, kernel, g)
    precondition(dy.shape == [n, g.outputHeight, g.outputWidth, f], "Conv2DReference: dy \(dy.shape)")
    var dx = Tensor(shape: x.shape)
    var dk = Tensor(shape: kernel.shape)
    g.forEachTap(batch: n) { b, oh, ow, i, j, ih, iw in
      for ch in 0..<c {
        for o in 0..<f {
          let gy = dy[b, oh, ow, o]
          dx[b, ih, iw, ch] += kernel[i, j, ch, o] * gy
          dk[i, j, ch, o] += x[b, ih, iw, ch] * gy
        }
      }
    }
    return (dx, dk)
  }

  /// (batch, input channels, filters) after checking that input and kernel fit the geometry.
  static func checkShapes(_ x: Tensor, _ kernel: Tensor, _ g: ConvGeometry) -> (Int, Int, Int) {
    precondition(
      x.rank == 4 && x.shape[1] == g.inputHeight && x.shape[2] == g.inputWidth,
      "Conv2DReference: input \(x.shape) is not [N, \(g.inputHeight), \(g.inputWidth), C]")
    precondition(
      kernel.rank == 4 && kernel.shape[0] == g.kernelHeight && kernel.shape[1] == g.kernelWidth
        && kernel.shape[2] == x.shape[3],
      "Conv2DReference: kernel \(kernel.shape) does not fit input \(x.shape) and \(g)")
    return (x.shape[0], x.shape[3], kernel.shape[3])
  }
}
