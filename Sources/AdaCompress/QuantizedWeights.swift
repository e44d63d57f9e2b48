import AdaNN
import AdaTensor
import AdaTrain

extension QuantizedTensor {
  /// Symmetric per-channel quantisation of `weight` to `bits` bits:
  ///
  ///     qmax     = 2^(bits−1) − 1
  ///     scale_c  = max_{i in c} |w_i| / qmax        (1 for an all-zero channel)
  ///     q_i      = clamp(round(w_i / scale_c), −qmax, qmax)   (ties away from zero)
  ///
  /// so `|w_i − q_i · scale_c| ≤ scale_c / 2` for every element (up to Float rounding).
  /// Channels are as in the type's description: the flattened dimensions from `axis` on.
  ///
  /// - Parameters:
  ///   - weight: any shape, e.g. a Conv2D kernel `[kh, kw, in, out]`.
  ///   - axis: first axis of the channel block (`rank − 1` for Conv2D/Dense kernels).
  public init(quantizing weight: Tensor, bits: Int, axis: Int) {
    precondition((2...8).contains(bits), "QuantizedTensor: bits must be 2…8, got \(bits)")
    precondition(axis >= 0 && axis < weight.rank, "QuantizedTensor: axis \(axis) outside \(weight.shape)")
    let channels = Self.channelCount(shape: weight.shape, axis: axis)
    let qmax = Float(Self.maximumMagnitude(bits: bits))
    var maxAbs = [Float](repeating: 0, count: channels)
    for (i, w) in weight.scalars.enumerated() { maxAbs[i % channels] = max(maxAbs[i % channels], abs(w)) }
    let scales = maxAbs.map { $0 > 0 ? $0 / qmax : 1 }
    var values = [Int8](repeating: 0, count: weight.count)
    for (i, w) in weight.scalars.enumerated() {
      values[i] = Int8(min(max((w / scales[i % channels]).rounded(), -qmax), qmax))
    }
    self.init(bits: bits, axis: axis, shape: weight.shape, values: values, scales: scales)
  }

  /// `weight` rounded onto `grid`'s integer grid with `grid`'s bits, axis and (fixed) scales:
  /// `q = clamp(round(w / scale_c), −qmax, qmax)`. Quantization-aware fine-tuning projects the
  /// float weights this way, so the scales chosen by `quantize` stay.
  public init(projecting weight: Tensor, onto grid: QuantizedTensor) {
    precondition(weight.shape == grid.shape, "QuantizedTensor: \(weight.shape) is not \(grid.shape)")
    let channels = grid.scales.count
    let qmax = Float(Self.maximumMagnitude(bits: grid.bits))
    var values = [Int8](repeating: 0, count: weight.count)
    for (i, w) in weight.scalars.enumerated() {
      values[i] = Int8(min(max((w / grid.scales[i % channels]).rounded(), -qmax), qmax))
    }
    self.init(bits: grid.bits, axis: grid.axis, shape: grid.shape, values: values, scales: grid.scales)
  }

  /// The channel axis adascale quantizes for a layer's weight: the output channels of Conv2D
  /// (`3`), Dense (`1`) and DepthwiseConv2D (`2`: the `in · mult` block); nil for other weights.
  public static func channelAxis(of spec: LayerSpec, weight: String) -> Int? {
    guard weight == "kernel" else { return nil }
    switch spec {
    case .conv2D: return 3
    case .dense: return 1
    case .depthwiseConv2D: return 2
    default: return nil
    }
  }
}

extension Dictionary where Key == String, Value == QuantizedTensor {
  /// Quantizes `model`'s current values of these weights again, each with its entry's bits and
  /// axis, and puts the dequantized values into the model: after fine-tuning has moved the
  /// float weights off the integer grid. Entries whose weight no longer exists are dropped.
  public func requantizing(_ model: Model) -> (model: Model, quantized: QuantizedWeights) {
    var model = model
    var table: QuantizedWeights = [:]
    for (key, old) in self {
      guard let weight = model.parameters.tensors[key], weight.shape == old.shape else { continue }
      let q = QuantizedTensor(quantizing: weight, bits: old.bits, axis: old.axis)
      model.parameters.tensors[key] = q.dequantized()
      table[key] = q
    }
    return (model, table)
  }

  /// Projects `model`'s current values of these weights onto each entry's grid with the
  /// entry's fixed scales (`QuantizedTensor(projecting:onto:)`) and puts the dequantized values
  /// into the model: the end of quantization-aware fine-tuning. Weights already on their grid
  /// are unchanged. Entries whose weight no longer exists are dropped.
  public func projecting(_ model: Model) -> (model: Model, quantized: QuantizedWeights) {
    var model = model
    var table: QuantizedWeights = [:]
    for (key, grid) in self {
      guard let weight = model.parameters.tensors[key], weight.shape == grid.shape else { continue }
      let q = QuantizedTensor(projecting: weight, onto: grid)
      model.parameters.tensors[key] = q.dequantized()
      table[key] = q
    }
    return (model, table)
  }

  /// The straight-through projection of these weights onto their grids, for quantization-aware
  /// training (`TrainConfig.parameterProjection`).
  public var trainingProjection: ParameterProjection {
    ParameterProjection(
      mapValues { grid in { @Sendable w in QuantizedTensor(projecting: w, onto: grid).dequantized() } })
  }
}
