import AdaNN
import AdaTensor
import AdaTrain

/// How exit heads are trained (docs/exits.md, "Training"). Defaults are short: the backbone is
/// frozen, so only a few small layers learn.
public struct ExitTrainingOptions: Codable, Hashable, Sendable {
  public var epochs: Int = 3
  public var batchSize: Int = 128
  /// Adam's peak learning rate, decayed to 0 by a cosine over the run.
  public var learningRate: Double = 3e-3
  /// Weight of the label cross-entropy; the distillation term from the variant's own output
  /// gets `1 − alpha` (loss `α·CE + (1 − α)·T²·KL(p_T ‖ q_T)`).
  public var alpha: Double = 0.5
  /// Softening temperature `T` of the distillation term.
  public var temperature: Double = 2
  /// Training examples whose backbone features are captured (the first ones of the training
  /// split); the cap keeps the feature cache small (at most `maxCacheBytes` per exit).
  public var examples: Int = 20000
  public var maxCacheBytes: Int = 1 << 30
  public var seed: UInt64 = 0

  public init() {}
}

/// Trains exit heads on a frozen backbone (docs/exits.md).
///
/// The backbone does not change, so its features at each exit are computed once, in inference
/// mode, together with the variant's own output (the distillation target), and every head
/// trains on those cached features: a head's loss depends on its own weights only, so training
/// each head on its features is exactly joint training of all heads with the summed loss, at
/// the cost of one backbone pass. A head's parameter-free prefix (the pooling of `gap` and
/// `grid:g`) is also applied once, so those heads train a single Dense layer.
///
///     let cache = try ExitHeadTraining.capture(variant, nodes: ["pool1"], inputs: x)
///     let w = try ExitHeadTraining.train(
///       .grid(2), node: "pool1", features: cache.features[0], labels: y,
///       teacherLogits: cache.logits, options: ExitTrainingOptions())
public enum ExitHeadTraining {
  /// Backbone features at some nodes and the variant's final logits, for a set of inputs.
  public struct Capture: Sendable {
    /// One `[N, …]` tensor per requested node.
    public var features: [Tensor]
    /// `[N, K]` logits of the variant's own output (log-probabilities when it ends in softmax;
    /// softmax ignores the per-row shift, so they are valid logits).
    public var logits: Tensor
  }

  /// Runs `model` (frozen, inference mode) on `inputs` `[N, …]` and keeps the features of
  /// `nodes` and the final output.
  public static func capture(_ model: Model, nodes: [String], inputs: Tensor, batchSize: Int = 256)
    throws(AdaError) -> Capture
  {
    let (_, activation) = try ExitHeads.classifier(of: model)
    let graph = Graph(name: model.graph.name, nodes: model.graph.nodes, outputs: nodes + model.graph.outputs)
    let out = try Executor(graph: graph).predict(inputs, parameters: model.parameters, batchSize: batchSize)
    let final = out.last!
    return Capture(
      features: Array(out.dropLast()),
      logits: activation == .softmax ? DistillationLoss.teacherLogits(fromProbabilities: final) : final)
  }

  /// The head alone as a model reading `[N] + feature` at an input named `node`, with linear
  /// logits and seeded initial weights keyed as in the multi-exit model.
  static func headModel(_ head: ExitHead, node: String, feature: [Int], classes: Int, seed: UInt64)
    throws(AdaError) -> Model
  {
    let nodes = head.nodes(
      reading: node, feature: feature, classes: classes, prefix: "\(node)_exit", activation: .linear)
    let graph = Graph(
      name: "\(node)_exit",
      nodes: [Node(name: node, spec: .input(InputSpec(shape: feature)), inputs: [])] + nodes,
      outputs: [nodes.last!.name])
    return Model(graph: graph, parameters: try Parameters.initialize(for: graph, seed: seed))
  }

  /// Splits a head model at its first node with parameters: the parameter-free prefix (run
  /// once) and the trainable rest, whose input is named after the prefix's last node.
  static func split(_ head: Model) throws(AdaError) -> (prefix: Graph?, rest: Model) {
    let graph = head.graph
    let shapes = try graph.inferShapes()
    let nodes = Array(graph.nodes.dropFirst())
    var cut = 0
    while cut < nodes.count,
      nodes[cut].spec.makeLayer().parameters(for: [shapes[nodes[cut].inputs[0]]!]).isEmpty
    {
      cut += 1
    }
    guard cut > 0 else { return (nil, head) }
    let last = nodes[cut - 1].name
    let prefix = Graph(name: graph.name, nodes: [graph.nodes[0]] + nodes[..<cut], outputs: [last])
    let rest = Graph(
      name: graph.name,
      nodes: [Node(name: last, spec: .input(InputSpec(shape: shapes[last]!)), inputs: [])] + nodes[cut...],
      outputs: graph.outputs)
    return (prefix, Model(graph: rest, parameters: head.parameters))
  }

  /// Trains one head on cached `features` `[N] + feature` with the loss
  /// `α·CE(labels) + (1 − α)·T²·KL(softmax(teacher/T) ‖ softmax(head/T))`, Adam with a cosine
  /// decay, shuffled by `options.seed`. Returns the head's trained weights, keyed as in the
  /// multi-exit model (`<node>_exit…/kernel`).
  public static func train(
    _ head: ExitHead, node: String, features: Tensor, labels: [Int32], teacherLogits: Tensor,
    options: ExitTrainingOptions
  ) throws(AdaError) -> Parameters {
    let n = features.shape[0]
    precondition(
      labels.count == n && teacherLogits.shape[0] == n, "ExitHeadTraining: one label and target per row")
    let feature = Array(features.shape.dropFirst())
    let classes = teacherLogits.shape[1]
    let model = try headModel(head, node: node, feature: feature, classes: classes, seed: options.seed)
    let (prefix, rest) = try split(model)
    let x =
      try prefix.map { (g) throws(AdaError) in
        try Executor(graph: g).predict(features, parameters: Parameters(), batchSize: 1024)[0]
      } ?? features
    let executor = try Executor(graph: rest.graph)
    var parameters = rest.parameters
    let keys = parameters.keys
    let loss = DistillationLoss(temperature: Float(options.temperature), alpha: Float(1 - options.alpha))
    let steps = max(1, options.epochs * ((n + options.batchSize - 1) / options.batchSize))
    let schedule = LearningRateSchedule.cosine(initial: options.learningRate, decaySteps: steps)
    var adam = Adam()
    var g = SeededGenerator(seed: options.seed ^ 0x5EED_E417)
    var order = Array(0..<n)
    for _ in 0..<options.epochs {
      order.shuffle(using: &g)
      for start in stride(from: 0, to: n, by: options.batchSize) {
        let batch = Array(order[start..<min(start + options.batchSize, n)])
        let xb = x.gatherRows(batch)
        let tb = teacherLogits.gatherRows(batch)
        let yb = batch.map { labels[$0] }
        var context = ForwardContext(training: true, needsBackward: true, seed: 0)
        let trace = executor.forward(xb, parameters: &parameters, context: &context)
        let (_, d) = loss.evaluate(studentLogits: trace.outputs[0], teacherLogits: tb, labels: yb)
        var gradients = Parameters()
        executor.backward(trace, outputGradients: [d], parameters: parameters, gradients: &gradients)
        let lr = Float(schedule.learningRate(at: adam.state.iterations))
        adam.apply(gradients: gradients, to: &parameters, keys: keys, learningRate: lr, weightDecay: 0)
      }
    }
    return parameters
  }

  /// Accuracy of a head with `weights` on cached `features` against `labels`.
  public static func accuracy(
    _ head: ExitHead, node: String, weights: Parameters, features: Tensor, labels: [Int32], classes: Int
  ) throws(AdaError) -> Double {
    let feature = Array(features.shape.dropFirst())
    var model = try headModel(head, node: node, feature: feature, classes: classes, seed: 0)
    for key in model.parameters.keys { model.parameters.tensors[key] = weights.tensors[key] }
    let out = try Executor(graph: model.graph).predict(
      features, parameters: model.parameters, batchSize: 1024)[0]
    return Double(correctPredictions(out, labels: labels)) / Double(max(labels.count, 1))
  }
}

extension Tensor {
  /// Rows `indices` of a `[N, …]` tensor, in that order.
  func gatherRows(_ indices: [Int]) -> Tensor {
    let row = shape.dropFirst().reduce(1, *)
    var out = [Float](repeating: 0, count: indices.count * row)
    scalars.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for (k, i) in indices.enumerated() {
          for j in 0..<row { dst[k * row + j] = src[i * row + j] }
        }
      }
    }
    return Tensor(shape: [indices.count] + Array(shape.dropFirst()), scalars: out)
  }
}
