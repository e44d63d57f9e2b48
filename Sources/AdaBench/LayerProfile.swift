import AdaNN
import AdaTensor
import Foundation

/// Times each layer's forward and backward separately (training mode), for finding hot spots.
enum LayerProfile {
  static func run(graph: Graph, batch: Int, repeats: Int) throws {
    let shapes = try graph.inferShapes()
    var g = SeededGenerator(seed: 5)
    for node in graph.nodes where !node.spec.isInput {
      let layer = node.spec.makeLayer()
      let inShapes = node.inputs.map { shapes[$0]! }
      let xs = inShapes.map { Tensor.uniform([batch] + $0, lo: -1, hi: 1, using: &g) }
      var params = layer.parameters(for: inShapes).map { Tensor.normal($0.shape, std: 0.1, using: &g).map { abs($0) + 0.1 } }
      try profile(layer, node.name, xs, &params, batch: batch, repeats: repeats)
    }
  }

  static func profile<L: Layer>(_ layer: L, _ name: String, _ xs: [Tensor], _ params: inout [Tensor], batch: Int, repeats: Int) throws {
    var fwd: [Double] = []
    var bwd: [Double] = []
    for _ in 0..<repeats {
      var ctx = ForwardContext(training: true, needsBackward: true, seed: 1)
      let t0 = Stopwatch.now()
      let (y, cache) = layer.forward(xs, params: &params, context: &ctx)
      let t1 = Stopwatch.now()
      var pg = params.map { Tensor(shape: $0.shape) }
      _ = layer.backward(y, cache: cache, params: params, paramGrads: &pg)
      let t2 = Stopwatch.now()
      fwd.append(t1 - t0)
      bwd.append(t2 - t1)
    }
    print(String(format: "%-16@ fwd %7.2f ms  bwd %7.2f ms", name as NSString, Stopwatch.median(fwd) * 1000, Stopwatch.median(bwd) * 1000))
  }
}
