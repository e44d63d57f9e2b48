import AdaTensor

/// Runs a graph: inference (freeing activations after their last use), and training-mode
/// forward that records a `Trace`, then backward in reverse topological order.
///
///     let exec = try Executor(graph: model.graph)
///     let probs = exec.predict(x, parameters: model.parameters)[0]   // x: [N, 28, 28, 1]
public struct Executor: Sendable {
  public let graph: Graph
  /// Output shape of each node, batch excluded, in node order.
  public let shapes: [[Int]]
  let layers: [any Layer]
  let inputIndices: [[Int]]
  let parameterSpecs: [[ParameterSpec]]
  let outputIndices: [Int]
  /// Index of the last node that reads each node's output (outputs live to the end).
  let lastUse: [Int]
  /// Whether any input of the node is something other than the graph input (so its input
  /// gradient is needed in backward).
  let needsInputGradient: [Bool]
  /// Position of the graph's input node.
  let inputNodeIndex: Int

  public init(graph: Graph) throws(AdaError) {
    let shapeByName = try graph.inferShapes()
    let index = graph.indexByName
    self.graph = graph
    shapes = graph.nodes.map { shapeByName[$0.name]! }
    let layers = graph.nodes.map { $0.spec.makeLayer() }
    self.layers = layers
    inputIndices = graph.nodes.map { $0.inputs.map { index[$0]! } }
    parameterSpecs = graph.nodes.enumerated().map { i, node in
      layers[i].parameters(for: node.inputs.map { shapeByName[$0]! })
    }
    outputIndices = graph.outputs.map { index[$0]! }
    var last = Array(0..<graph.nodes.count)
    for (i, ins) in inputIndices.enumerated() { for j in ins { last[j] = max(last[j], i) } }
    for o in outputIndices { last[o] = graph.nodes.count }
    lastUse = last
    let inputNode = graph.nodes.firstIndex { $0.spec.isInput }!
    inputNodeIndex = inputNode
    needsInputGradient = inputIndices.map { ins in ins.contains { $0 != inputNode } }
  }

  /// Checks that `x` is `[N] + inputShape`.
  public func checkInput(_ x: Tensor) throws(AdaError) {
    let expected = graph.inputShape
    guard x.rank == expected.count + 1, Array(x.shape.dropFirst()) == expected else {
      throw AdaError(
        .badShape, path: graph.input.name,
        "input has shape \(x.shape), the model expects [N] + \(expected)")
    }
  }

  // MARK: Inference

  /// Outputs for one batch, in `graph.outputs` order. Activations are freed after their last use.
  public func predict(_ x: Tensor, parameters: Parameters) -> [Tensor] {
    predict(x, parameters: parameters, afterNode: { _ in })
  }

  /// `predict` calling `afterNode(i)` once node `i` has run and its dead inputs are freed: the
  /// profiler timestamps there to see each node's time inside the graph (docs/profiler.md).
  @inline(__always)
  public func predict(_ x: Tensor, parameters: Parameters, afterNode: (Int) -> Void) -> [Tensor] {
    var context = ForwardContext.inference
    var values = [Tensor?](repeating: nil, count: layers.count)
    for i in layers.indices {
      let inputs = i == inputNodeIndex ? [x] : inputIndices[i].map { values[$0]! }
      var params = gatherParameters(i, parameters)
      values[i] = runForward(layers[i], inputs, &params, &context).0
      for j in inputIndices[i] where lastUse[j] == i { values[j] = nil }
      if lastUse[i] == i { values[i] = nil }  // read by nothing and not an output
      afterNode(i)
    }
    return outputIndices.map { values[$0]! }
  }

  /// `predict` counting activation bytes into `meter` (a separate loop, so the plain path pays
  /// nothing for it).
  public func predict(_ x: Tensor, parameters: Parameters, meter: inout ActivationMeter) -> [Tensor] {
    var context = ForwardContext.inference
    var values = [Tensor?](repeating: nil, count: layers.count)
    for i in layers.indices {
      let inputs = i == inputNodeIndex ? [x] : inputIndices[i].map { values[$0]! }
      var params = gatherParameters(i, parameters)
      let y = runForward(layers[i], inputs, &params, &context).0
      meter.allocate(ActivationMeter.bytes(y.count))
      values[i] = y
      for j in inputIndices[i] where lastUse[j] == i {
        meter.release(ActivationMeter.bytes(values[j]!.count))
        values[j] = nil
      }
      if lastUse[i] == i {
        meter.release(ActivationMeter.bytes(y.count))
        values[i] = nil
      }
    }
    return outputIndices.map { values[$0]! }
  }

  /// Runs node `i` on `inputs` (inference), for executors that schedule nodes themselves.
  func runNode(_ i: Int, _ inputs: [Tensor], parameters: Parameters) -> Tensor {
    var context = ForwardContext.inference
    var params = gatherParameters(i, parameters)
    return runForward(layers[i], inputs, &params, &context).0
  }

  /// Outputs for any number of examples, run in batches of `batchSize`.
  public func predict(_ x: Tensor, parameters: Parameters, batchSize: Int) -> [Tensor] {
    let n = x.shape[0]
    if n <= batchSize { return predict(x, parameters: parameters) }
    var parts: [[Tensor]] = []
    for start in stride(from: 0, to: n, by: batchSize) {
      parts.append(predict(x.slice(batch: start..<min(start + batchSize, n)), parameters: parameters))
    }
    return outputIndices.indices.map { o in Tensor.concatenate(batches: parts.map { $0[o] }) }
  }

  // MARK: Training

  /// Everything a backward pass needs from a forward pass.
  public struct Trace {
    /// Model outputs, in `graph.outputs` order.
    public var outputs: [Tensor]
    var caches: [Any]
    var batchShape: [Int]
  }

  /// Forward pass that records caches for `backward`. In training mode batch-norm updates its
  /// moving statistics inside `parameters`.
  public func forward(
    _ x: Tensor, parameters: inout Parameters, context: inout ForwardContext
  ) -> Trace {
    var values = [Tensor?](repeating: nil, count: layers.count)
    var caches = [Any](repeating: EmptyCache(), count: layers.count)
    context.needsBackward = true
    for i in layers.indices {
      let inputs = i == inputNodeIndex ? [x] : inputIndices[i].map { values[$0]! }
      var params = gatherParameters(i, parameters)
      context.inputsNeedGradient = needsInputGradient[i] || context.needsModelInputGradient
      let (y, cache) = runForward(layers[i], inputs, &params, &context)
      if context.training { scatterParameters(i, params, into: &parameters) }
      values[i] = y
      caches[i] = cache
      for j in inputIndices[i] where lastUse[j] == i { values[j] = nil }
    }
    return Trace(outputs: outputIndices.map { values[$0]! }, caches: caches, batchShape: x.shape)
  }

  /// Backward pass. `outputGradients[k]` is dLoss/d(output k), `nil` for outputs with no loss.
  /// Adds into `gradients` (keys as in `parameters`; missing keys are created).
  /// Returns dLoss/d(input) when forward ran with `context.needsModelInputGradient`, else nil.
  @discardableResult
  public func backward(
    _ trace: Trace, outputGradients: [Tensor?], parameters: Parameters,
    gradients: inout Parameters
  ) -> Tensor? {
    precondition(outputGradients.count == outputIndices.count, "backward: one gradient per output")
    var grads = [Tensor?](repeating: nil, count: layers.count)
    for (k, g) in outputGradients.enumerated() {
      if let g { accumulate(&grads[outputIndices[k]], g) }
    }
    for i in layers.indices.reversed() {
      guard let gy = grads[i] else { continue }
      grads[i] = nil
      if i == inputNodeIndex { return gy }
      let params = gatherParameters(i, parameters)
      var pgrads = takeGradients(i, &gradients)
      let gx = runBackward(layers[i], gy, trace.caches[i], params, &pgrads)
      for (n, spec) in parameterSpecs[i].enumerated() {
        gradients[graph.nodes[i].name, spec.name] = pgrads[n]
      }
      for (slot, j) in inputIndices[i].enumerated() where !gx[slot].shape.isEmpty {
        accumulate(&grads[j], gx[slot])
      }
    }
    return nil
  }

  // MARK: Helpers

  private func accumulate(_ slot: inout Tensor?, _ g: Tensor) {
    if slot == nil { slot = g } else { slot!.add(g) }
  }

  private func gatherParameters(_ i: Int, _ parameters: Parameters) -> [Tensor] {
    let name = graph.nodes[i].name
    return parameterSpecs[i].map { spec in
      guard let t = parameters[name, spec.name] else {
        preconditionFailure("Executor: \(name)/\(spec.name) missing; call Model.validate() first")
      }
      return t
    }
  }

  private func scatterParameters(_ i: Int, _ params: [Tensor], into parameters: inout Parameters) {
    let name = graph.nodes[i].name
    for (spec, t) in zip(parameterSpecs[i], params) where !spec.trainable {
      parameters[name, spec.name] = t
    }
  }

  /// Removes this node's gradient buffers from the store (to mutate them without copying).
  private func takeGradients(_ i: Int, _ gradients: inout Parameters) -> [Tensor] {
    let name = graph.nodes[i].name
    return parameterSpecs[i].map { spec in
      gradients.tensors.removeValue(forKey: Parameters.key(name, spec.name))
        ?? Tensor(shape: spec.shape)
    }
  }
}

/// Opens the existential so each layer sees its own `Cache` type.
private func runForward<L: Layer>(
  _ layer: L, _ inputs: [Tensor], _ params: inout [Tensor], _ context: inout ForwardContext
) -> (Tensor, Any) {
  let (y, cache) = layer.forward(inputs, params: &params, context: &context)
  return (y, cache)
}

private func runBackward<L: Layer>(
  _ layer: L, _ gy: Tensor, _ cache: Any, _ params: [Tensor], _ pgrads: inout [Tensor]
) -> [Tensor] {
  guard let cache = cache as? L.Cache else {
    preconditionFailure(
      "Executor: cache of \(L.self) has the wrong type; was forward run with needsBackward?")
  }
  return layer.backward(gy, cache: cache, params: params, paramGrads: &pgrads)
}
