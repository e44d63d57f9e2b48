import AdaNN
import AdaTensor

/// `ZeroPadding2D` + a `valid` (depthwise) convolution → the convolution with `same` padding,
/// wherever the explicit padding is exactly what `same` pads at the model's input size.
///
/// keras.applications pad strided convolutions by hand (`correct_pad`: (0, 1) on an even size,
/// (1, 1) on an odd one) — which is what `same` does, at the size the model was built for. The
/// rewrite keeps every output identical at that size, drops one node per strided block, and lets
/// the model run at other sizes (elastic resolution): a hand padding computed for 32×32 leaves
/// MobileNetV2's fifth strided block a 2×2 input at 24×24, `same` pads whatever it is given.
public enum SamePaddingFolding {
  /// `model` with every foldable padding folded into its convolution; the model itself when
  /// none is.
  public static func apply(to model: Model) throws(AdaError) -> Model {
    let shapes = try model.graph.inferShapes()
    let consumers = model.graph.consumers
    var rewriter = GraphRewriter(model)
    for node in model.graph.nodes {
      guard case .zeroPadding2D(let pad) = node.spec, let input = node.inputs.first,
        let shape = shapes[input], shape.count == 3, let readers = consumers[node.name], readers.count == 1,
        !model.graph.outputs.contains(node.name), let conv = model.graph.node(named: readers[0]),
        let folded = samePadded(conv.spec, matching: pad, height: shape[0], width: shape[1])
      else { continue }
      rewriter.setSpec(conv.name, folded)
      rewriter.bypass(node.name)
    }
    return rewriter.model
  }

  /// `spec` with `same` padding when it is a `valid`, undilated convolution and `same` pads an
  /// `height × width` input exactly as `pad` does; nil otherwise.
  static func samePadded(_ spec: LayerSpec, matching pad: ZeroPadding2DSpec, height: Int, width: Int)
    -> LayerSpec?
  {
    func same(_ kernel: Size2, _ strides: Size2) -> Bool {
      let g = ConvGeometry(
        inputHeight: height, inputWidth: width, kernelHeight: kernel.h, kernelWidth: kernel.w,
        strideHeight: strides.h, strideWidth: strides.w, same: true)
      return (g.padTop, g.padBottom, g.padLeft, g.padRight) == (pad.top, pad.bottom, pad.left, pad.right)
    }
    switch spec {
    case .conv2D(var s) where s.padding == .valid && s.dilation == .square(1) && same(s.kernel, s.strides):
      s.padding = .same
      return .conv2D(s)
    case .depthwiseConv2D(var s)
    where s.padding == .valid && s.dilation == .square(1) && same(s.kernel, s.strides):
      s.padding = .same
      return .depthwiseConv2D(s)
    default: return nil
    }
  }
}
