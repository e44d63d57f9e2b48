import AdaNN
import AdaTensor

/// The layer → operator map (docs/formats.md, "ONNX export"): one case per `LayerSpec` kind.
/// `ONNXSupport.check` has already rejected what cannot be mapped, so a failure here is a bug.
extension ONNXGraphBuilder {
  /// Emits `node` reading `inputs`; returns the tensor holding its output.
  mutating func emit(_ node: Node, inputs: [ONNXValue]) throws(AdaError) -> ONNXValue {
    let name = node.name
    let shape = shapes[name]!
    switch node.spec {
    case .input:
      throw AdaError(.internalError, path: name, "the input node is the graph input, not an operator")
    case .conv2D(let s):
      return conv2D(name, s, inputs[0], shape: shape)
    case .depthwiseConv2D(let s):
      return depthwiseConv2D(name, s, inputs[0], shape: shape)
    case .separableConv2D(let s):
      return separableConv2D(name, s, inputs[0], shape: shape)
    case .dense(let s):
      return dense(name, s, inputs[0], shape: shape)
    case .batchNorm(let s):
      return batchNorm(name, s, inputs[0])
    case .activation(let a):
      return activation(a, inputs[0], prefix: name)
    case .relu(let s):
      return relu(name, s, inputs[0])
    case .softmax:
      return activation(.softmax, inputs[0], prefix: name)
    case .pool2D(let s):
      return pool2D(name, s, inputs[0], shape: shape)
    case .globalPool2D(let s):
      return globalPool2D(name, s, inputs[0], shape: shape)
    case .flatten:
      return flatten(name, inputs[0], shape: shape)
    case .reshape:
      return reshape(name, inputs[0], shape: shape)
    case .dropout:
      return inputs[0]  // identity at inference
    case .zeroPadding2D(let s):
      return zeroPadding2D(name, s, inputs[0], shape: shape)
    case .add:
      return merge("Add", name, inputs, shape: shape)
    case .multiply:
      return merge("Mul", name, inputs, shape: shape)
    case .concatenate(let s):
      return concatenate(name, s, inputs, shape: shape)
    case .rescaling(let s):
      return rescaling(name, s, inputs[0])
    case .normalization(let s):
      return normalization(name, s, inputs[0])
    }
  }

  // MARK: Convolutions (channels-first)

  /// `Conv` attributes for a window over `input`'s `[H, W]` with Keras padding rules.
  static func windowAttributes(
    _ input: ONNXValue, kernel: Size2, strides: Size2, dilation: Size2, padding: Padding,
    includeKernelShape: Bool = true
  ) -> [Onnx_AttributeProto] {
    let g = ConvGeometry(
      inputHeight: input.shape[0], inputWidth: input.shape[1], kernel: kernel, strides: strides,
      dilation: dilation, padding: padding)
    var a = [
      ONNXProto.attribute("strides", ints: [strides.h, strides.w]),
      ONNXProto.attribute("pads", ints: [g.padTop, g.padLeft, g.padBottom, g.padRight]),
    ]
    if dilation != .square(1) { a.append(ONNXProto.attribute("dilations", ints: [dilation.h, dilation.w])) }
    if includeKernelShape { a.append(ONNXProto.attribute("kernel_shape", ints: [kernel.h, kernel.w])) }
    return a
  }

  mutating func conv2D(_ name: String, _ s: Conv2DSpec, _ x: ONNXValue, shape: [Int]) -> ONNXValue {
    let x = channelsFirst(x)
    let c = x.channels
    let w = kernel(
      node: name, dims: [s.filters, c, s.kernel.h, s.kernel.w], channelAxis: 0,
      permute: Self.convPermutation(kh: s.kernel.h, kw: s.kernel.w, input: c, output: s.filters))
    let inputs = [x.name, w] + (bias(node: name).map { [$0] } ?? [])
    let y = op(
      "Conv", inputs, prefix: name,
      attributes: Self.windowAttributes(
        x, kernel: s.kernel, strides: s.strides, dilation: s.dilation, padding: s.padding))
    return activation(s.activation, ONNXValue(name: y, shape: shape, channelsFirst: true), prefix: name)
  }

  /// Depthwise: a grouped `Conv` with `group = C`; Keras's `[kh, kw, C, m]` kernel is ONNX's
  /// `[C·m, 1, kh, kw]` (output channel `c·m + j`, as in Keras).
  mutating func depthwiseConv2D(
    _ name: String, _ s: DepthwiseConv2DSpec, _ x: ONNXValue, shape: [Int]
  ) -> ONNXValue {
    let x = channelsFirst(x)
    let c = x.channels
    let out = c * s.depthMultiplier
    let w = kernel(
      node: name, dims: [out, 1, s.kernel.h, s.kernel.w], channelAxis: 0,
      permute: Self.convPermutation(kh: s.kernel.h, kw: s.kernel.w, input: 1, output: out))
    let inputs = [x.name, w] + (bias(node: name).map { [$0] } ?? [])
    let y = op(
      "Conv", inputs, prefix: name,
      attributes: Self.windowAttributes(
        x, kernel: s.kernel, strides: s.strides, dilation: s.dilation, padding: s.padding)
        + [ONNXProto.attribute("group", int: c)])
    return activation(s.activation, ONNXValue(name: y, shape: shape, channelsFirst: true), prefix: name)
  }

  /// Separable: the depthwise `Conv` (no bias) then a 1×1 `Conv` with the bias and activation.
  mutating func separableConv2D(
    _ name: String, _ s: SeparableConv2DSpec, _ x: ONNXValue, shape: [Int]
  ) -> ONNXValue {
    let x = channelsFirst(x)
    let c = x.channels
    let mid = c * s.depthMultiplier
    let dw = parameters[name, "depthwiseKernel"]!.scalars
    let dwPermute = Self.convPermutation(kh: s.kernel.h, kw: s.kernel.w, input: 1, output: mid)
    let dwName = floatConstant(
      "\(name)/depthwise_kernel", dwPermute(Array(dw.indices)).map { dw[$0] },
      dims: [mid, 1, s.kernel.h, s.kernel.w])
    let depthwise = op(
      "Conv", [x.name, dwName], prefix: name,
      attributes: Self.windowAttributes(
        x, kernel: s.kernel, strides: s.strides, dilation: s.dilation, padding: s.padding)
        + [ONNXProto.attribute("group", int: c)])
    let pw = parameters[name, "pointwiseKernel"]!.scalars
    let pwPermute = Self.convPermutation(kh: 1, kw: 1, input: mid, output: s.filters)
    let pwName = floatConstant(
      "\(name)/pointwise_kernel", pwPermute(Array(pw.indices)).map { pw[$0] }, dims: [s.filters, mid, 1, 1])
    let inputs = [depthwise, pwName] + (bias(node: name).map { [$0] } ?? [])
    let y = op("Conv", inputs, prefix: name, attributes: [ONNXProto.attribute("kernel_shape", ints: [1, 1])])
    return activation(s.activation, ONNXValue(name: y, shape: shape, channelsFirst: true), prefix: name)
  }

  // MARK: Dense (Keras layout)

  /// `Gemm` for `[N, in]` inputs; `MatMul` (+ `Add`) on the last axis of higher ranks.
  mutating func dense(_ name: String, _ s: DenseSpec, _ x: ONNXValue, shape: [Int]) -> ONNXValue {
    let x = channelsLast(x)
    let inputs = x.channels
    let w = kernel(node: name, dims: [inputs, s.units], channelAxis: 1, permute: { $0 })
    let b = bias(node: name)
    let y: String
    if x.shape.count == 1 {
      y = op("Gemm", [x.name, w] + (b.map { [$0] } ?? []), prefix: name)
    } else {
      let product = op("MatMul", [x.name, w], prefix: name)
      y = b.map { op("Add", [product, $0], prefix: name) } ?? product
    }
    return activation(s.activation, ONNXValue(name: y, shape: shape, channelsFirst: false), prefix: name)
  }

  // MARK: Pooling (channels-first)

  /// `MaxPool` / `AveragePool`; the average counts only real elements (`count_include_pad` 0),
  /// as Keras does.
  mutating func pool2D(_ name: String, _ s: Pool2DSpec, _ x: ONNXValue, shape: [Int]) -> ONNXValue {
    let x = channelsFirst(x)
    var attributes = Self.windowAttributes(
      x, kernel: s.pool, strides: s.strides, dilation: .square(1), padding: s.padding)
    if s.kind == .average { attributes.append(ONNXProto.attribute("count_include_pad", int: 0)) }
    let y = op(s.kind == .max ? "MaxPool" : "AveragePool", [x.name], prefix: name, attributes: attributes)
    return ONNXValue(name: y, shape: shape, channelsFirst: true)
  }

  /// `GlobalAveragePool` / `GlobalMaxPool` give `[N, C, 1, 1]`; without `keepDims` a
  /// `Flatten` makes it `[N, C]`.
  mutating func globalPool2D(
    _ name: String, _ s: GlobalPool2DSpec, _ x: ONNXValue, shape: [Int]
  ) -> ONNXValue {
    let x = channelsFirst(x)
    let pooled = op(s.kind == .max ? "GlobalMaxPool" : "GlobalAveragePool", [x.name], prefix: name)
    if s.keepDims { return ONNXValue(name: pooled, shape: shape, channelsFirst: true) }
    let y = op("Flatten", [pooled], prefix: name, attributes: [ONNXProto.attribute("axis", int: 1)])
    return ONNXValue(name: y, shape: shape, channelsFirst: false)
  }
}
