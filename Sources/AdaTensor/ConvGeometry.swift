/// The spatial arithmetic of one convolution-like window sweep over NHWC images: output size and
/// zero padding, for Conv2D, DepthwiseConv2D, SeparableConv2D and pooling alike.
///
/// Padding follows Keras / TensorFlow:
/// - **valid**: no padding; `out = floor((in − effectiveKernel) / stride) + 1`, or 0 when the
///   window does not fit, with `effectiveKernel = (k − 1) · dilation + 1`;
/// - **same**: `out = ceil(in / stride)`; the padding needed is
///   `padTotal = max((out − 1) · stride + effectiveKernel − in, 0)`, split with
///   `floor(padTotal / 2)` before (top/left) and the rest after (bottom/right).
///
/// Output pixel `(oh, ow)` with kernel tap `(i, j)` reads input pixel
/// `(oh · strideHeight − padTop + i · dilationHeight, ow · strideWidth − padLeft + j · dilationWidth)`;
/// reads outside the input are zeros (pooling skips them instead).
///
///     let g = ConvGeometry(inputHeight: 28, inputWidth: 28, kernelHeight: 3, kernelWidth: 3,
///                          strideHeight: 2, strideWidth: 2, same: true)
///     (g.outputHeight, g.padTop, g.padBottom) == (14, 0, 1)
public struct ConvGeometry: Sendable, Hashable, Codable, CustomStringConvertible {
  public var inputHeight: Int
  public var inputWidth: Int
  public var kernelHeight: Int
  public var kernelWidth: Int
  public var strideHeight: Int
  public var strideWidth: Int
  public var dilationHeight: Int
  public var dilationWidth: Int
  /// Zero rows added above the input.
  public var padTop: Int
  /// Zero rows added below the input (may exceed what the last window reads).
  public var padBottom: Int
  /// Zero columns added left of the input.
  public var padLeft: Int
  /// Zero columns added right of the input.
  public var padRight: Int
  public var outputHeight: Int
  public var outputWidth: Int

  /// - Parameter same: Keras `padding="same"` when true, `"valid"` when false.
  public init(
    inputHeight: Int, inputWidth: Int, kernelHeight: Int, kernelWidth: Int,
    strideHeight: Int = 1, strideWidth: Int = 1, dilationHeight: Int = 1, dilationWidth: Int = 1,
    same: Bool
  ) {
    precondition(
      kernelHeight > 0 && kernelWidth > 0 && strideHeight > 0 && strideWidth > 0
        && dilationHeight > 0 && dilationWidth > 0,
      "ConvGeometry: kernel, stride and dilation must be positive")
    precondition(inputHeight >= 0 && inputWidth >= 0, "ConvGeometry: negative input size")
    self.inputHeight = inputHeight
    self.inputWidth = inputWidth
    self.kernelHeight = kernelHeight
    self.kernelWidth = kernelWidth
    self.strideHeight = strideHeight
    self.strideWidth = strideWidth
    self.dilationHeight = dilationHeight
    self.dilationWidth = dilationWidth
    let (oh, top, bottom) = Self.axis(
      input: inputHeight, kernel: kernelHeight, stride: strideHeight, dilation: dilationHeight,
      same: same)
    let (ow, left, right) = Self.axis(
      input: inputWidth, kernel: kernelWidth, stride: strideWidth, dilation: dilationWidth,
      same: same)
    outputHeight = oh
    outputWidth = ow
    padTop = top
    padBottom = bottom
    padLeft = left
    padRight = right
  }

  /// Output size and (before, after) padding along one spatial axis.
  static func axis(input: Int, kernel: Int, stride: Int, dilation: Int, same: Bool) -> (
    Int, Int, Int
  ) {
    let effective = (kernel - 1) * dilation + 1
    if same {
      let out = (input + stride - 1) / stride
      let total = max((out - 1) * stride + effective - input, 0)
      return (out, total / 2, total - total / 2)
    }
    let out = input >= effective ? (input - effective) / stride + 1 : 0
    return (out, 0, 0)
  }

  /// Kernel extent once dilated: `(k − 1) · d + 1` per axis.
  public var effectiveKernelHeight: Int { (kernelHeight - 1) * dilationHeight + 1 }
  public var effectiveKernelWidth: Int { (kernelWidth - 1) * dilationWidth + 1 }

  /// Taps per channel: `kernelHeight · kernelWidth`.
  public var kernelArea: Int { kernelHeight * kernelWidth }
  public var inputArea: Int { inputHeight * inputWidth }
  public var outputArea: Int { outputHeight * outputWidth }

  /// True when the window produces at least one output pixel.
  public var hasOutput: Bool { outputHeight > 0 && outputWidth > 0 }

  /// True for a 1×1, stride-1, unpadded sweep: the output is the input pixel by pixel, so a
  /// convolution is a plain matrix product with no im2col.
  public var isPointwise: Bool {
    kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
      && padTop == 0 && padLeft == 0 && outputHeight == inputHeight && outputWidth == inputWidth
  }

  /// Range of kernel rows `i` whose input row `oh · strideHeight − padTop + i · dilationHeight`
  /// lies inside the input.
  @inlinable
  public func validKernelRows(forOutputRow oh: Int) -> Range<Int> {
    Self.validTaps(
      origin: oh * strideHeight - padTop, dilation: dilationHeight, kernel: kernelHeight,
      input: inputHeight)
  }

  /// Range of kernel columns `j` whose input column lies inside the input.
  @inlinable
  public func validKernelColumns(forOutputColumn ow: Int) -> Range<Int> {
    Self.validTaps(
      origin: ow * strideWidth - padLeft, dilation: dilationWidth, kernel: kernelWidth,
      input: inputWidth)
  }

  /// Taps `t` in `0..<kernel` with `0 ≤ origin + t · dilation < input`.
  @inlinable
  public static func validTaps(origin: Int, dilation: Int, kernel: Int, input: Int) -> Range<Int> {
    // First t with origin + t·d ≥ 0; one past the last t with origin + t·d ≤ input − 1.
    let first = origin >= 0 ? 0 : (-origin + dilation - 1) / dilation
    let last = origin > input - 1 ? 0 : (input - 1 - origin) / dilation + 1
    let end = min(kernel, last)
    return first < end ? first..<end : 0..<0
  }

  /// Visits every (image, output pixel, kernel tap) whose input pixel `(ih, iw)` lies inside the
  /// image, in row-major order: the definition the plain-loop reference kernels are written from.
  public func forEachTap(
    batch n: Int,
    _ body: (_ b: Int, _ oh: Int, _ ow: Int, _ i: Int, _ j: Int, _ ih: Int, _ iw: Int) -> Void
  ) {
    for b in 0..<n {
      for oh in 0..<outputHeight {
        for ow in 0..<outputWidth {
          for i in 0..<kernelHeight {
            for j in 0..<kernelWidth {
              let ih = oh * strideHeight - padTop + i * dilationHeight
              let iw = ow * strideWidth - padLeft + j * dilationWidth
              guard ih >= 0, ih < inputHeight, iw >= 0, iw < inputWidth else { continue }
              body(b, oh, ow, i, j, ih, iw)
            }
          }
        }
      }
    }
  }

  public var description: String {
    "\(inputHeight)x\(inputWidth) k\(kernelHeight)x\(kernelWidth) s\(strideHeight)x\(strideWidth)"
      + " d\(dilationHeight)x\(dilationWidth) pad(\(padTop),\(padBottom),\(padLeft),\(padRight))"
      + " → \(outputHeight)x\(outputWidth)"
  }
}
