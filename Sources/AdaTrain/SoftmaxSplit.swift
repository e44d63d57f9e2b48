import AdaNN
import AdaTensor

/// A graph whose final softmaxes were split off, so its outputs are logits.
public struct SoftmaxSplit: Sendable {
  /// The rewritten graph: same node names and parameter keys, outputs produce logits where
  /// `softmaxRemoved` is true.
  public var graph: Graph
  /// Per output of the original graph: whether its final softmax was removed.
  public var softmaxRemoved: [Bool]
}

extension Graph {
  /// The same model with the final softmax of each output split off, so that training can use
  /// the fused cross-entropy gradient w.r.t. the logits (`dLogits = p − onehot`) instead of
  /// back-propagating through the softmax Jacobian. A pure rewrite: `self` is unchanged.
  ///
  /// For each output node:
  /// - a standalone softmax (`.softmax`, `.activation(.softmax)`) that no other node reads is
  ///   removed and the output becomes its input (the logits);
  /// - a Dense/Conv2D/DepthwiseConv2D/SeparableConv2D with `activation == .softmax` that no other
  ///   node reads keeps its name and parameters but gets `activation = .linear`;
  /// - anything else is left as is (`softmaxRemoved == false`).
  ///
  /// Applying softmax to the rewritten outputs reproduces the original outputs, so the trained
  /// parameters belong to the original graph unchanged.
  ///
  ///     let split = model.graph.splittingFinalSoftmax()
  ///     // split.graph.outputs: ["dense_1"]   split.softmaxRemoved: [true]
  public func splittingFinalSoftmax() -> SoftmaxSplit {
    var nodes = self.nodes
    var outputs = self.outputs
    var removed = [Bool](repeating: false, count: outputs.count)
    let readers = consumers
    var dropped = Set<String>()
    for (k, name) in outputs.enumerated() {
      guard (readers[name] ?? []).isEmpty, !dropped.contains(name),
        let i = nodes.firstIndex(where: { $0.name == name })
      else { continue }
      // An output listed twice, or also read by another output, stays as is.
      guard outputs.filter({ $0 == name }).count == 1 else { continue }
      switch nodes[i].spec {
      case .softmax, .activation(.softmax):
        guard nodes[i].inputs.count == 1 else { continue }
        let source = nodes[i].inputs[0]
        // If the logits node is itself an output, removing the softmax would merge two outputs.
        guard !outputs.contains(source) else { continue }
        outputs[k] = source
        dropped.insert(name)
        removed[k] = true
      default:
        if let linear = nodes[i].spec.withLinearActivationIfSoftmax() {
          nodes[i].spec = linear
          removed[k] = true
        }
      }
    }
    nodes.removeAll { dropped.contains($0.name) }
    return SoftmaxSplit(graph: Graph(name: name, nodes: nodes, outputs: outputs), softmaxRemoved: removed)
  }
}

extension LayerSpec {
  /// The spec with a fused softmax activation replaced by linear, or nil when it has none.
  fileprivate func withLinearActivationIfSoftmax() -> LayerSpec? {
    switch self {
    case .dense(var s) where s.activation == .softmax:
      s.activation = .linear
      return .dense(s)
    case .conv2D(var s) where s.activation == .softmax:
      s.activation = .linear
      return .conv2D(s)
    case .depthwiseConv2D(var s) where s.activation == .softmax:
      s.activation = .linear
      return .depthwiseConv2D(s)
    case .separableConv2D(var s) where s.activation == .softmax:
      s.activation = .linear
      return .separableConv2D(s)
    default:
      return nil
    }
  }
}
