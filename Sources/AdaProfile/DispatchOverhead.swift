import AdaNN
import AdaTensor

/// What `Executor.predict` spends per node beyond the layer's own forward pass: building the
/// input array, gathering each parameter tensor by key, storing and freeing activations.
/// Modelled as `perNodeMs + perParameterMs · parameterTensors` and measured once per machine
/// fingerprint from two calibration chains (see `calibrate`).
public struct DispatchOverhead: Codable, Hashable, Sendable {
  public var perNodeMs: Double
  public var perParameterMs: Double

  public init(perNodeMs: Double, perParameterMs: Double) {
    self.perNodeMs = perNodeMs
    self.perParameterMs = perParameterMs
  }

  public static let zero = DispatchOverhead(perNodeMs: 0, perParameterMs: 0)

  /// Overhead of one node that owns `parameterTensors` tensors.
  public func ms(parameterTensors: Int) -> Double {
    perNodeMs + perParameterMs * Double(parameterTensors)
  }

  enum CodingKeys: String, CodingKey {
    case perNodeMs = "per_node_ms"
    case perParameterMs = "per_parameter_ms"
  }

  /// Number of layers in each calibration chain.
  public static let chainLength = 48

  /// Two chains after a `[16]` input: `chainLength` dropout layers (identity at inference, no
  /// parameters) and `chainLength` dense 16→16 layers (two parameter tensors each). For each,
  /// the residual is end-to-end latency minus the sum of its ops timed alone; the dropout chain
  /// gives `perNodeMs = residual / nodes`, the dense chain then gives `perParameterMs`.
  /// Negative estimates (noise) are clamped to 0.
  public static func calibrate(config: ProbeConfig, progress: (String) -> Void = { _ in })
    -> DispatchOverhead
  {
    let chains = [
      chain(of: .dropout(DropoutSpec(rate: 0.5)), named: "dropout"),
      chain(of: .dense(DenseSpec(units: 16)), named: "dense"),
    ]
    var benchmarks: [Benchmark] = []
    var plans: [(ops: [GraphOp], firstOp: Int, uniqueKeys: [String])] = []
    for graph in chains {
      let ops = try! graph.profiledOps()  // the chains are well-formed by construction
      var unique: [String] = []
      let first = benchmarks.count
      for op in ops where !unique.contains(op.signature.key) {
        unique.append(op.signature.key)
        benchmarks.append(.op(op, budgetMs: config.budgetMs))
      }
      plans.append((ops, first, unique))
      let executor = try! Executor(graph: graph)
      let parameters = try! Parameters.initialize(for: graph, seed: 3)
      benchmarks.append(.model(executor, parameters: parameters, budgetMs: 2 * config.budgetMs))
    }
    progress("calibrating per-node dispatch overhead")
    let stats = LatencyProbe.measure(benchmarks, config: config)
    var residualPerNode: [Double] = []
    var tensors: [Int] = []
    for plan in plans {
      var sum = 0.0
      for op in plan.ops {
        sum += stats[plan.firstOp + plan.uniqueKeys.firstIndex(of: op.signature.key)!].meanMs
      }
      let measured = stats[plan.firstOp + plan.uniqueKeys.count].meanMs
      residualPerNode.append((measured - sum) / Double(plan.ops.count))
      tensors.append(plan.ops.reduce(0) { $0 + $1.parameterTensors })
    }
    let perNode = max(residualPerNode[0], 0)
    let nodes = Double(plans[1].ops.count)
    let perParameter = max((residualPerNode[1] - perNode) * nodes / Double(max(tensors[1], 1)), 0)
    return DispatchOverhead(perNodeMs: perNode, perParameterMs: perParameter)
  }

  static func chain(of spec: LayerSpec, named name: String) -> Graph {
    var nodes = [Node(name: "input", spec: .input(InputSpec(shape: [16])), inputs: [])]
    for i in 1...chainLength {
      nodes.append(Node(name: "\(name)_calibration_\(i)", spec: spec, inputs: [nodes.last!.name]))
    }
    return Graph(name: "\(name)-chain", nodes: nodes, outputs: [nodes.last!.name])
  }
}
