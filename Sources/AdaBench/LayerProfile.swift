import AdaNN
import AdaTensor
import Foundation

/// `AdaBench layers`: each layer's forward and backward time in training mode at `--batch`, on
/// random inputs of the right shape, with input gradients skipped exactly where the executor
/// skips them (layers that read the model input). For finding hot spots, not for `make bench`.
enum LayerProfile {
  static func run(_ options: Options) throws(AdaError) {
    guard let arch = options.string("arch") else {
      throw AdaError(.missing, path: "--arch", "layers needs --arch FILE.yaml")
    }
    let batch = try options.int("batch", default: 64)
    let repeats = try options.int("repeats", default: 20)
    let threads = try options.int("threads", default: 2)
    let json = options.flag("json")
    try options.finish()
    let model = try BenchModel(arch: arch, seed: 1)
    let graph = model.logitsGraph
    let shapes = try graph.inferShapes()
    var g = SeededGenerator(seed: 5)
    if !json { print("layer               forward ms  backward ms   (batch \(batch), \(threads) threads)") }
    var totals = (0.0, 0.0)
    Stopwatch.withThreads(threads) {
      for node in graph.nodes where !node.spec.isInput {
        let layer = node.spec.makeLayer()
        let inShapes = node.inputs.map { shapes[$0]! }
        let xs = inShapes.map { Tensor.uniform([batch] + $0, lo: -1, hi: 1, using: &g) }
        var params = layer.parameters(for: inShapes).map {
          Tensor.normal($0.shape, std: 0.1, using: &g).map { abs($0) + 0.1 }
        }
        let needsInputGradient = node.inputs != [graph.input.name]
        let (f, b) = profile(layer, xs, &params, needsInputGradient, repeats: repeats)
        totals.0 += f
        totals.1 += b
        BenchRecord(
          bench: "layers", metric: node.name, value: (f + b) * 1000, unit: "ms",
          detail: [
            "forwardMs": String(format: "%.3f", f * 1000),
            "backwardMs": String(format: "%.3f", b * 1000), "batch": String(batch),
          ]
        ).emit(
          row(node.name, f, b),
          jsonOnly: json)
      }
    }
    BenchRecord(
      bench: "layers", metric: "total", value: (totals.0 + totals.1) * 1000, unit: "ms",
      detail: [
        "forwardMs": String(format: "%.3f", totals.0 * 1000),
        "backwardMs": String(format: "%.3f", totals.1 * 1000), "batch": String(batch),
      ]
    ).emit(
      row("total", totals.0, totals.1),
      jsonOnly: json)
  }

  static func row(_ name: String, _ forward: Double, _ backward: Double) -> String {
    name.padding(toLength: 18, withPad: " ", startingAt: 0)
      + String(format: " %10.2f %12.2f", forward * 1000, backward * 1000)
  }

  /// Median forward and backward seconds over `repeats` runs (after one warm-up).
  static func profile<L: Layer>(
    _ layer: L, _ xs: [Tensor], _ params: inout [Tensor], _ needsInputGradient: Bool, repeats: Int
  ) -> (Double, Double) {
    var fwd: [Double] = []
    var bwd: [Double] = []
    for r in 0...repeats {
      var ctx = ForwardContext(training: true, needsBackward: true, seed: 1)
      ctx.inputsNeedGradient = needsInputGradient
      let t0 = Stopwatch.now()
      let (y, cache) = layer.forward(xs, params: &params, context: &ctx)
      let t1 = Stopwatch.now()
      var pg = params.map { Tensor(shape: $0.shape) }
      _ = layer.backward(y, cache: cache, params: params, paramGrads: &pg)
      let t2 = Stopwatch.now()
      if r > 0 {
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
      }
    }
    return (Stopwatch.median(fwd), Stopwatch.median(bwd))
  }
}
