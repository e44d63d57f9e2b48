import AdaNN
import AdaTensor
import AdaTrain

/// Re-estimates a model's batch-norm statistics for the weights it has now — what every
/// supernet configuration needs before it is evaluated, because the moving statistics in the
/// store belong to the full-width source model (once-for-all's "set running statistics").
///
/// Each batch-norm's moving mean and variance become the average of its batch statistics over
/// `batches` batches: the model runs in training mode with dropout off, and batch `i` (from 0)
/// updates the moving values with momentum `i / (i + 1)`, a running average.
public enum BatchNormRecalibration {
  /// `model` with recalibrated batch-norm statistics, from the first `batches · batchSize`
  /// examples of `data` (fewer if `data` is smaller). A model without batch-norm is returned as is.
  public static func recalibrate(
    _ model: Model, on data: LabeledDataset, batchSize: Int, batches: Int
  ) throws(AdaError) -> Model {
    guard model.graph.nodes.contains(where: { if case .batchNorm = $0.spec { true } else { false } }),
      batches > 0, data.count > 0
    else { return model }
    var parameters = model.parameters
    var buffer = BatchBuffer(exampleShape: data.exampleShape)
    let count = min(data.count, batches * batchSize)
    var start = 0
    var i = 0
    while start < count {
      let end = min(count, start + batchSize)
      let executor = try Executor(graph: calibrationGraph(model.graph, momentum: Float(i) / Float(i + 1)))
      let x = try buffer.fill(from: data, indices: Array(start..<end)[...])
      var context = ForwardContext(training: true, needsBackward: false)
      _ = executor.forward(x, parameters: &parameters, context: &context)
      start = end
      i += 1
    }
    return Model(graph: model.graph, parameters: parameters)
  }

  /// `graph` with every batch-norm's momentum set to `momentum` and dropout off.
  static func calibrationGraph(_ graph: Graph, momentum: Float) -> Graph {
    var g = graph
    for i in g.nodes.indices {
      switch g.nodes[i].spec {
      case .batchNorm(var s):
        s.momentum = momentum
        g.nodes[i].spec = .batchNorm(s)
      case .dropout:
        g.nodes[i].spec = .dropout(DropoutSpec(rate: 0))
      default: break
      }
    }
    return g
  }
}
