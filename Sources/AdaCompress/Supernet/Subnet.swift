import AdaNN
import AdaTensor

/// One configuration of a supernet as a standalone graph, with where each of its weights lives
/// in the supernet's shared store. Made by `Supernet.materialize(_:)`.
///
///     let sub = try supernet.materialize(config)
///     var p = sub.parameters(from: supernet.weights)       // gather
///     … forward / backward with Executor(graph: sub.graph) …
///     sub.accumulate(grads, into: &storeGradients)          // scatter-add
public struct Subnet: Sendable {
  /// Where one weight of the subnet comes from.
  struct WeightSource: Sendable {
    /// Key in the subnet (`node/name`).
    var key: String
    /// Key in the shared store.
    var storeKey: String
    var shape: [Int]
    /// Flat indices into the store tensor, in the subnet tensor's order; nil: the whole tensor.
    var indices: [Int32]?
  }

  /// Kernels quantised to `bits` (node names in the subnet).
  public struct Quantization: Sendable, Hashable {
    public var bits: Int
    public var nodes: [String]
  }

  public let config: SubnetConfig
  /// The configuration's graph; weights are keyed `node/name` as in any model.
  public let graph: Graph
  let sources: [WeightSource]
  /// Quantised blocks, applied by `model(from:)` (and straight-through in training).
  public let quantization: [Quantization]

  /// The subnet's weights, read from the shared store (float, before quantisation).
  public func parameters(from store: Parameters) -> Parameters {
    var p = Parameters()
    for s in sources {
      let whole = store.tensors[s.storeKey]!
      guard let indices = s.indices else {
        p.tensors[s.key] = whole
        continue
      }
      let values = whole.scalars.withUnsafeBufferPointer { src in
        indices.map { src[Int($0)] }
      }
      p.tensors[s.key] = Tensor(shape: s.shape, scalars: values)
    }
    return p
  }

  /// The subnet as a standalone model: weights gathered from `store`, quantised blocks on their
  /// grid (the model holds the dequantised values; `quantized` the integers and scales).
  public func model(from store: Parameters) throws(AdaError) -> (model: Model, quantized: QuantizedWeights) {
    try quantize(Model(graph: graph, parameters: parameters(from: store)))
  }

  /// Applies this subnet's quantisation to `model` (a model of `graph`).
  public func quantize(_ model: Model) throws(AdaError) -> (model: Model, quantized: QuantizedWeights) {
    var model = model
    var quantized = QuantizedWeights()
    for q in quantization where !q.nodes.isEmpty {
      let step = try Quantize(bits: q.bits).apply(to: model, selecting: .named(q.nodes))
      model = step.model
      quantized.merge(step.quantized) { _, new in new }
    }
    return (model, quantized)
  }

  /// Adds the subnet's gradients into the store's gradient buffers (keys as in the store; keys
  /// without a buffer, such as batch-norm moving statistics, are skipped). Elements the subnet
  /// does not read receive nothing.
  public func accumulate(_ gradients: Parameters, into store: inout Parameters) {
    for s in sources {
      guard let g = gradients.tensors[s.key], store.tensors[s.storeKey] != nil else { continue }
      guard let indices = s.indices else {
        store.tensors[s.storeKey]!.add(g)
        continue
      }
      var target = store.tensors.removeValue(forKey: s.storeKey)!
      target.scalars.withUnsafeMutableBufferPointer { dst in
        g.scalars.withUnsafeBufferPointer { src in
          for (i, j) in indices.enumerated() { dst[Int(j)] += src[i] }
        }
      }
      store.tensors[s.storeKey] = target
    }
  }

  /// Number of weights (scalars) the subnet holds.
  public var parameterCount: Int { sources.reduce(0) { $0 + $1.shape.elementCount } }
}
