import AdaTensor

/// Building a `ConvGeometry` from layer-spec values (`Size2`, `Padding`) and checking a layer's
/// input shapes against it. Shared by Conv2D, DepthwiseConv2D, SeparableConv2D and pooling, so
/// every window layer reports bad shapes the same way.
extension ConvGeometry {
  /// Geometry for an `inputHeight × inputWidth` image and the spec's window.
  public init(
    inputHeight: Int, inputWidth: Int, kernel: Size2, strides: Size2,
    dilation: Size2 = .square(1), padding: Padding
  ) {
    self.init(
      inputHeight: inputHeight, inputWidth: inputWidth, kernelHeight: kernel.h,
      kernelWidth: kernel.w, strideHeight: strides.h, strideWidth: strides.w,
      dilationHeight: dilation.h, dilationWidth: dilation.w, same: padding == .same)
  }

  /// The geometry of a one-input window layer, after checking its input shapes (batch
  /// excluded) are exactly one `[H, W, C]` with `C > 0`, the window settings are positive, and
  /// the window fits (at least one output pixel).
  ///
  /// - Parameter layer: the layer kind for messages, e.g. `"conv2d"`.
  /// - Throws: `AdaError(.badShape)` for the input, `AdaError(.invalidValue)` for the settings.
  public static func checked(
    _ inputs: [[Int]], kernel: Size2, strides: Size2, dilation: Size2 = .square(1),
    padding: Padding, layer: String
  ) throws(AdaError) -> ConvGeometry {
    guard inputs.count == 1 else {
      throw AdaError(.badShape, "\(layer) takes one input, found \(inputs.count)")
    }
    let shape = inputs[0]
    guard shape.count == 3 else {
      throw AdaError(
        .badShape, "\(layer) expects an input of shape [H, W, C] (NHWC without the batch), found \(shape)")
    }
    guard shape.allSatisfy({ $0 > 0 }) else {
      throw AdaError(.badShape, "\(layer) input \(shape) has an empty dimension")
    }
    for (name, size) in [("kernel", kernel), ("strides", strides), ("dilation", dilation)] {
      guard size.h > 0, size.w > 0 else {
        throw AdaError(.invalidValue, "\(layer) \(name) must be positive, found \(size)")
      }
    }
    let g = ConvGeometry(
      inputHeight: shape[0], inputWidth: shape[1], kernel: kernel, strides: strides,
      dilation: dilation, padding: padding)
    guard g.hasOutput else {
      throw AdaError(
        .badShape,
        "\(layer) window \(kernel) (dilation \(dilation)) does not fit the \(shape[0])x\(shape[1]) "
          + "input with \(padding) padding: the output would be empty")
    }
    return g
  }
}
