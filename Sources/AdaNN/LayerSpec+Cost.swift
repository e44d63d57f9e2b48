import AdaTensor

/// Parameter and multiply–accumulate counts of one layer application (batch 1).
public struct LayerCost: Codable, Hashable, Sendable {
  /// Scalars in the layer's parameters (trainable and not).
  public var params: Int
  /// Multiply–accumulates of one forward pass on one example; elementwise layers count 0.
  public var macs: Int

  public init(params: Int, macs: Int) {
    self.params = params
    self.macs = macs
  }

  public static let zero = LayerCost(params: 0, macs: 0)
  public static func + (a: LayerCost, b: LayerCost) -> LayerCost {
    LayerCost(params: a.params + b.params, macs: a.macs + b.macs)
  }
}

extension LayerSpec {
  /// Cost of this layer for the given input and output shapes (batch excluded).
  /// MACs count the products of convolutions and dense layers (the standard convention of
  /// MobileNet/once-for-all tables); bias adds, normalisation and activations are not counted.
  public func cost(inputShapes: [[Int]], outputShape: [Int]) -> LayerCost {
    let params = makeLayer().parameters(for: inputShapes).reduce(0) { $0 + $1.shape.elementCount }
    let outPixels = outputShape.dropLast().elementCount
    let inChannels = inputShapes.first?.last ?? 0
    let macs: Int
    switch self {
    case .conv2D(let s):
      macs = outPixels * s.kernel.h * s.kernel.w * inChannels * s.filters
    case .depthwiseConv2D(let s):
      macs = outPixels * s.kernel.h * s.kernel.w * inChannels * s.depthMultiplier
    case .separableConv2D(let s):
      let mid = inChannels * s.depthMultiplier
      macs = outPixels * (s.kernel.h * s.kernel.w * mid + mid * s.filters)
    case .dense(let s):
      macs = outPixels * inChannels * s.units
    default:
      macs = 0
    }
    return LayerCost(params: params, macs: macs)
  }
}

extension Graph {
  /// Per-node cost in node order, and the total.
  public func costs() throws(AdaError) -> (perNode: [LayerCost], total: LayerCost) {
    let shapes = try inferShapes()
    let per = nodes.map { node in
      node.spec.cost(
        inputShapes: node.spec.isInput ? [] : node.inputs.map { shapes[$0]! },
        outputShape: shapes[node.name]!)
    }
    return (per, per.reduce(.zero, +))
  }
}

extension LayerSpec {
  public var isInput: Bool {
    if case .input = self { true } else { false }
  }
}
