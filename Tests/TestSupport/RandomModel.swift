import AdaNN
import AdaTensor

extension Fixtures {
  /// `graph` with every weight random — normal(0, 0.5), moving variances uniform in [0.5, 1.5) —
  /// so outputs depend on all of them; validated.
  public static func randomModel(_ graph: Graph, seed: UInt64) -> Model {
    var p = try! Parameters.initialize(for: graph, seed: seed)
    var g = SeededGenerator(seed: seed &+ 1)
    for key in p.keys {
      let shape = p.tensors[key]!.shape
      p.tensors[key] =
        key.hasSuffix("/movingVariance")
        ? Tensor.uniform(shape, lo: 0.5, hi: 1.5, using: &g)
        : Tensor.normal(shape, std: 0.5, using: &g)
    }
    let model = Model(graph: graph, parameters: p)
    try! model.validate()
    return model
  }
}
