import AdaNN
import AdaTensor

/// Runs one segment's nodes on what crossed into it, the way `Executor.predict` runs the whole
/// graph: nodes in order, each layer's inference `forward`, activations freed after their last
/// reader inside the segment. Same layers, same inputs, same order, so the same bits.
///
///     let r = try SegmentRunner(segment: chain.segments[1], graph: chain.graph)
///     let (sends, outputs) = r.run(input: nil, received: ["block_3_add": t], parameters: p)
public struct SegmentRunner: Sendable {
  public let segment: Segment
  /// Per-example shape of every tensor the segment reads or makes, batch excluded.
  public let shapes: [String: [Int]]
  let layers: [any Layer]
  let parameterSpecs: [[ParameterSpec]]
  /// Index (in `segment.nodes`) of the last node reading each local node or received tensor;
  /// `Int.max` for what leaves the segment.
  let lastUse: [String: Int]

  public init(segment: Segment, graph: Graph) throws(AdaError) {
    let shapes = try graph.inferShapes()
    self.segment = segment
    self.shapes = shapes
    let layers = segment.nodes.map { $0.spec.makeLayer() }
    self.layers = layers
    parameterSpecs = segment.nodes.enumerated().map { i, node in
      node.spec.isInput ? [] : layers[i].parameters(for: node.inputs.map { shapes[$0]! })
    }
    var last: [String: Int] = [:]
    for (i, node) in segment.nodes.enumerated() {
      last[node.name] = i
      for input in node.inputs { last[input] = i }
    }
    for name in segment.sends + segment.outputs { last[name] = Int.max }
    lastUse = last
  }

  /// Per-example shape expected for received tensor `name`.
  public func expectedShape(_ name: String) -> [Int] { shapes[name] ?? [] }

  /// Checks that `received` holds exactly the segment's inputs with the right shapes and one
  /// batch size (and `input` its shape for the first segment); the error names the tensor.
  public func check(input: Tensor?, received: [String: Tensor]) throws(AdaError) {
    if segment.index == 0 {
      guard let input, let node = segment.nodes.first(where: { $0.spec.isInput }) else {
        throw AdaError(.missing, path: "segment 0", "the first segment needs the graph input")
      }
      guard Array(input.shape.dropFirst()) == shapes[node.name] else {
        throw AdaError(
          .badShape, path: node.name,
          "input has shape \(input.shape), the model expects [N] + \(shapes[node.name]!)")
      }
    }
    var batch: Int? = input?.shape.first
    for name in segment.inputs {
      guard let t = received[name] else {
        throw AdaError(.missing, path: name, "segment \(segment.index) needs tensor '\(name)', not received")
      }
      guard t.rank >= 1, Array(t.shape.dropFirst()) == shapes[name]! else {
        throw AdaError(
          .badShape, path: name, "expected [N] + \(shapes[name]!), found \(t.shape)")
      }
      if let b = batch, b != t.shape[0] {
        throw AdaError(.badShape, path: name, "batch \(t.shape[0]) differs from the other inputs' \(b)")
      }
      batch = t.shape[0]
    }
  }

  /// Runs the segment: `input` is the graph input (first segment only), `received` the tensors
  /// that crossed from the previous segment. Returns the tensors to send on, by name, and the
  /// graph outputs held here, in `segment.outputs` order. Call `check` first on foreign data.
  public func run(input: Tensor?, received: [String: Tensor], parameters: Parameters)
    -> (sends: [String: Tensor], outputs: [Tensor])
  {
    var context = ForwardContext.inference
    var values = received
    for (i, node) in segment.nodes.enumerated() {
      if node.spec.isInput {
        values[node.name] = input!
      } else {
        let inputs = node.inputs.map { values[$0]! }
        var params = parameterSpecs[i].map { spec in
          guard let t = parameters[node.name, spec.name] else {
            preconditionFailure("SegmentRunner: \(node.name)/\(spec.name) missing")
          }
          return t
        }
        values[node.name] = forwardOpened(layers[i], inputs, &params, &context)
      }
      for name in node.inputs + [node.name] where lastUse[name] == i { values[name] = nil }
    }
    var sends: [String: Tensor] = [:]
    for name in segment.sends { sends[name] = values[name]! }
    return (sends, segment.outputs.map { values[$0]! })
  }
}

/// Opens the existential so the layer's forward is called with its own `Cache` type.
private func forwardOpened<L: Layer>(
  _ layer: L, _ inputs: [Tensor], _ params: inout [Tensor], _ context: inout ForwardContext
) -> Tensor {
  layer.forward(inputs, params: &params, context: &context).0
}
