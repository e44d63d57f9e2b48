import AdaFormats
import AdaIO
import AdaNN
import AdaTensor

/// A model ready for timing: the architecture from `--arch`, with its final softmax turned into
/// logits (training uses the fused softmax cross-entropy gradient, as the trainer does), seeded
/// parameters and an executor.
struct BenchModel {
  /// The graph as read (softmax output), for inference.
  var graph: Graph
  /// The same graph with the final fused softmax made linear, for training.
  var logitsGraph: Graph
  var parameters: Parameters
  /// Keys of the parameters an optimizer updates (not the moving statistics).
  var trainableKeys: [String]
  /// Multiply–accumulates of one forward pass on one example (`Graph.costs()`).
  var forwardMACs: Int

  /// The architecture in a YAML file (`recipes/models/*.yaml`) with seeded fresh parameters.
  init(arch path: String, seed: UInt64) throws(AdaError) {
    let graph = try ArchitectureFile.load(path: path)
    try self.init(graph: graph, parameters: Parameters.initialize(for: graph, seed: seed))
  }

  /// A model already in memory (e.g. read from a Keras file).
  init(graph: Graph, parameters: Parameters) throws(AdaError) {
    self.graph = graph
    self.parameters = parameters
    logitsGraph = graph
    for i in logitsGraph.nodes.indices where logitsGraph.outputs.contains(logitsGraph.nodes[i].name) {
      if case .dense(var s) = logitsGraph.nodes[i].spec, s.activation == .softmax {
        s.activation = .linear
        logitsGraph.nodes[i].spec = .dense(s)
      }
    }
    let shapes = try graph.inferShapes()
    trainableKeys = graph.nodes.flatMap { node in
      node.spec.makeLayer().parameters(for: node.inputs.compactMap { shapes[$0] })
        .filter(\.trainable).map { Parameters.key(node.name, $0.name) }
    }
    forwardMACs = try graph.costs().total.macs
  }

  /// Per-example input shape, e.g. `[28, 28, 1]`.
  var inputShape: [Int] { graph.inputShape }
}

/// One `sgemm` call of a model's training step.
struct GemmShape: CustomStringConvertible {
  var name: String
  var transA = false
  var transB = false
  var m: Int
  var n: Int
  var k: Int

  var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
  var description: String {
    "\(name) \(transA ? "Aᵀ" : "A")·\(transB ? "Bᵀ" : "B") m=\(m) n=\(n) k=\(k)"
  }

  /// The forward, kernel-gradient and input-gradient GEMMs of every Conv2D and Dense node at
  /// `batch` (as `LinearKernels` issues them; no input gradient for a layer reading the input).
  static func forModel(_ graph: Graph, batch: Int) throws(AdaError) -> [GemmShape] {
    let shapes = try graph.inferShapes()
    var out: [GemmShape] = []
    for node in graph.nodes {
      guard let input = node.inputs.first.flatMap({ shapes[$0] }), let output = shapes[node.name]
      else { continue }
      let rows = batch * output.dropLast().elementCount
      let (k, f): (Int, Int)
      switch node.spec {
      case .conv2D(let s): (k, f) = (s.kernel.h * s.kernel.w * input.last!, s.filters)
      case .dense(let s): (k, f) = (input.last!, s.units)
      default: continue
      }
      out.append(GemmShape(name: "\(node.name) fwd", m: rows, n: f, k: k))
      out.append(GemmShape(name: "\(node.name) dW", transA: true, m: k, n: f, k: rows))
      if node.inputs != [graph.input.name] {
        out.append(GemmShape(name: "\(node.name) dX", transB: true, m: rows, n: k, k: f))
      }
    }
    return out
  }
}
