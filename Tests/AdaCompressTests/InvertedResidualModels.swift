import AdaCompress
import AdaNN
import AdaTensor

/// A MobileNetV2-shaped net with random weights, small enough for unit tests:
///
///     stem 3×3 (8) → u0: dw → project (6)                         (no shortcut: 8 → 6 channels)
///                  → u1: expand (24) → dw → project (6) → u1_add  (shortcut from u0)
///                  → u2: expand (24) → dw → project (6) → u2_add  (shortcut from u1_add)
///                  → head 1×1 (16) → gap → out (5, softmax)
///
/// u1 and u2 form one stage of two residual units; the projects share the residual stream's
/// channels, the stem, the expansions and the head own theirs.
enum InvertedResidualModels {
  /// With `freshInit`, Keras' initial weights (He/Glorot kernels, γ = 1, β = 0) — a net to
  /// train; otherwise every weight random (outputs depend on every weight, for equivalences).
  static func mobileNetV2Like(seed: UInt64 = 11, freshInit: Bool = false) -> Model {
    typealias T = TestModels
    let relu6 = LayerSpec.relu(ReLUSpec(maxValue: 6))
    let dw = LayerSpec.depthwiseConv2D(
      DepthwiseConv2DSpec(kernel: .square(3), padding: .same, useBias: false))
    var nodes = [
      T.node("in", .input(InputSpec(shape: [8, 8, 3]))),
      T.node("stem", T.conv(8, 3, stride: 2, bias: false), "in"),
      T.node("stem_bn", .batchNorm(BatchNormSpec()), "stem"),
      T.node("stem_relu", relu6, "stem_bn"),
      T.node("u0_dw", dw, "stem_relu"),
      T.node("u0_dw_bn", .batchNorm(BatchNormSpec()), "u0_dw"),
      T.node("u0_dw_relu", relu6, "u0_dw_bn"),
      T.node("u0_project", T.conv(6, 1, bias: false), "u0_dw_relu"),
      T.node("u0_project_bn", .batchNorm(BatchNormSpec()), "u0_project"),
    ]
    var previous = "u0_project_bn"
    for u in ["u1", "u2"] {
      nodes += [
        T.node("\(u)_expand", T.conv(24, 1, bias: false), previous),
        T.node("\(u)_expand_bn", .batchNorm(BatchNormSpec()), "\(u)_expand"),
        T.node("\(u)_expand_relu", relu6, "\(u)_expand_bn"),
        T.node("\(u)_dw", dw, "\(u)_expand_relu"),
        T.node("\(u)_dw_bn", .batchNorm(BatchNormSpec()), "\(u)_dw"),
        T.node("\(u)_dw_relu", relu6, "\(u)_dw_bn"),
        T.node("\(u)_project", T.conv(6, 1, bias: false), "\(u)_dw_relu"),
        T.node("\(u)_project_bn", .batchNorm(BatchNormSpec()), "\(u)_project"),
        T.node("\(u)_add", .add, previous, "\(u)_project_bn"),
      ]
      previous = "\(u)_add"
    }
    nodes += [
      T.node("head", T.conv(16, 1, bias: false), previous),
      T.node("head_bn", .batchNorm(BatchNormSpec()), "head"),
      T.node("head_relu", relu6, "head_bn"),
      T.node("gap", .globalPool2D(GlobalPool2DSpec(kind: .average)), "head_relu"),
      T.node("out", T.dense(5, activation: .softmax), "gap"),
    ]
    let graph = Graph(name: "mbv2_like", nodes: nodes, outputs: ["out"])
    guard freshInit else { return T.randomModel(graph, seed: seed) }
    return Model(graph: graph, parameters: try! Parameters.initialize(for: graph, seed: seed))
  }

  /// `model` with the residual branch of each unit in `units` silenced: its last batch-norm
  /// outputs zeros (γ = β = 0), so the unit passes its shortcut through unchanged.
  static func silencing(_ units: [String], in model: Model) -> Model {
    var m = model
    for u in units {
      let channels = m.parameters["\(u)_project_bn", "gamma"]!.shape
      m.parameters["\(u)_project_bn", "gamma"] = .zeros(channels)
      m.parameters["\(u)_project_bn", "beta"] = .zeros(channels)
    }
    return m
  }
}
