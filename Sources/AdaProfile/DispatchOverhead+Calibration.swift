import AdaNN
import AdaTensor

extension DispatchOverhead {
  /// Measures the context terms on this host. A synthetic MobileNetV2-like graph
  /// (`calibrationGraph`, heterogeneous like the models the table is used for, but none of them)
  /// is timed node by node inside `Executor.predict` (`InGraphTiming`) in the same interleaved
  /// rounds as each of its ops alone. Every node gives one residual, in-graph minus alone minus
  /// one clock read; the residuals of the non-input nodes are fitted by least squares to
  /// `perNodeMs + perParameterMs · tensors + perWeightByteMs · weightBytes` (terms that come out
  /// negative are dropped and the rest refitted), and the input node's residual is `perModelMs`.
  public static func calibrate(config: ProbeConfig, progress: (String) -> Void = { _ in })
    -> DispatchOverhead
  {
    let run = Calibration(config: config)
    progress("calibrating the context terms on a \(run.ops.count)-node graph")
    return run.result(LatencyProbe.measure(run.benchmarks, config: config))
  }

  /// One calibration: its benchmarks (each op of `calibrationGraph` alone, then the graph timed
  /// node by node), to be measured in the probe's rounds — alone or next to a model's, so that
  /// both see the same load — and the fit of their results.
  public final class Calibration {
    let ops: [GraphOp]
    let unique: [String]
    let timing: InGraphTiming
    public let benchmarks: [Benchmark]

    public init(config: ProbeConfig) {
      let graph = DispatchOverhead.calibrationGraph()
      ops = try! graph.profiledOps()  // well-formed by construction
      var unique: [String] = []
      var benchmarks: [Benchmark] = []
      for op in ops where !unique.contains(op.signature.key) {
        unique.append(op.signature.key)
        benchmarks.append(.op(op, budgetMs: config.budgetMs))
      }
      timing = InGraphTiming(
        executor: try! Executor(graph: graph),
        parameters: try! Parameters.initialize(for: graph, seed: 3))
      benchmarks.append(timing.benchmark(budgetMs: 4 * config.budgetMs))
      self.unique = unique
      self.benchmarks = benchmarks
    }

    /// The fitted terms, given the stats of `benchmarks` in order.
    public func result(_ alone: [LatencyStats]) -> DispatchOverhead {
      let clock = DispatchOverhead.clockReadMs()
      let inGraph = timing.nodeMs
      var rows: [[Double]] = []
      var residuals: [Double] = []
      var perModel = 0.0
      for (i, op) in ops.enumerated() {
        let r = inGraph[i] - alone[unique.firstIndex(of: op.signature.key)!].meanMs - clock
        if op.spec.isInput {
          perModel = max(r, 0)
        } else {
          rows.append([1, Double(op.parameterTensors), Double(4 * op.work.params)])
          residuals.append(r)
        }
      }
      let c = DispatchOverhead.nonNegativeLeastSquares(rows, residuals)
      return DispatchOverhead(
        perNodeMs: c[0], perParameterMs: c[1], perWeightByteMs: c[2], perModelMs: perModel)
    }
  }

  /// Least squares `rows · c ≈ y` with `c ≥ 0`: solve, zero the most negative coefficient, repeat.
  public static func nonNegativeLeastSquares(_ rows: [[Double]], _ y: [Double]) -> [Double] {
    let k = rows.first?.count ?? 0
    var active = Array(repeating: true, count: k)
    while true {
      let columns = (0..<k).filter { active[$0] }
      var c = Array(repeating: 0.0, count: k)
      guard !columns.isEmpty else { return c }
      let solved = leastSquares(rows.map { r in columns.map { r[$0] } }, y)
      for (j, v) in zip(columns, solved) { c[j] = v }
      guard let worst = columns.min(by: { c[$0] < c[$1] }), c[worst] < 0 else { return c }
      active[worst] = false
    }
  }

  /// Ordinary least squares by the normal equations and Gaussian elimination with partial
  /// pivoting; a singular direction gets coefficient 0.
  static func leastSquares(_ rows: [[Double]], _ y: [Double]) -> [Double] {
    let k = rows.first?.count ?? 0
    var a = Array(repeating: Array(repeating: 0.0, count: k + 1), count: k)
    for (r, t) in zip(rows, y) {
      for i in 0..<k {
        for j in 0..<k { a[i][j] += r[i] * r[j] }
        a[i][k] += r[i] * t
      }
    }
    for col in 0..<k {
      let pivot = (col..<k).max { abs(a[$0][col]) < abs(a[$1][col]) }!
      a.swapAt(col, pivot)
      guard abs(a[col][col]) > 1e-300 else { continue }
      for row in 0..<k where row != col {
        let f = a[row][col] / a[col][col]
        for j in col...k { a[row][j] -= f * a[col][j] }
      }
    }
    return (0..<k).map { abs(a[$0][$0]) > 1e-300 ? a[$0][k] / a[$0][$0] : 0 }
  }

  /// Milliseconds of one `MonotonicClock.now()` (median of 21 runs of 1,000 reads).
  static func clockReadMs() -> Double {
    var runs: [Double] = []
    var sink = 0.0
    for _ in 0..<21 {
      let t0 = MonotonicClock.now()
      for _ in 0..<1000 { sink += MonotonicClock.now() }
      runs.append((MonotonicClock.now() - t0) / 1000)
    }
    return sink.isNaN ? 0 : SampleSet.median(runs) * 1e3
  }

  /// The calibration graph: a MobileNetV2-like net on a 24×24×3 input — strided 3×3 stem,
  /// inverted residual blocks (1×1 expand, ReLU6, zero-padding + valid or `same` depthwise 3×3
  /// at stride 1 or 2, ReLU6, 1×1 project, batch-norm, residual add), a 1×1 head conv, global
  /// average pooling and a dense softmax: 72 nodes, 0–0.5 MB of weights per node, 1.4 MB in all
  /// (more than the 1 MB L2 of the hosts seen so far, as in the models it stands for).
  public static func calibrationGraph() -> Graph {
    var nodes = [Node(name: "input", spec: .input(InputSpec(shape: [24, 24, 3])), inputs: [])]
    func add(_ name: String, _ spec: LayerSpec, _ inputs: [String]? = nil) {
      nodes.append(Node(name: name, spec: spec, inputs: inputs ?? [nodes.last!.name]))
    }
    let relu6 = LayerSpec.relu(ReLUSpec(maxValue: 6))
    func conv(_ filters: Int, _ k: Int = 1, stride: Int = 1) -> LayerSpec {
      .conv2D(
        Conv2DSpec(
          filters: filters, kernel: .square(k), strides: .square(stride), padding: .same))
    }
    add("stem", conv(16, 3, stride: 2))
    add("stem_relu", relu6)
    // (expand, out, stride, pad-then-valid)
    let blocks = [
      (48, 16, 1, false), (96, 24, 2, true), (144, 24, 1, false), (144, 40, 2, false),
      (240, 40, 1, false), (240, 80, 2, true), (480, 80, 1, false), (480, 96, 1, false),
    ]
    var channels = 16
    for (b, (expand, out, stride, pad)) in blocks.enumerated() {
      let start = nodes.last!.name
      add("b\(b)_expand", conv(expand))
      add("b\(b)_expand_relu", relu6)
      if pad {
        add("b\(b)_pad", .zeroPadding2D(ZeroPadding2DSpec(top: 0, bottom: 1, left: 0, right: 1)))
      }
      add(
        "b\(b)_dw",
        .depthwiseConv2D(
          DepthwiseConv2DSpec(
            kernel: .square(3), strides: .square(stride), padding: pad ? .valid : .same)))
      add("b\(b)_dw_relu", relu6)
      add("b\(b)_project", conv(out))
      add("b\(b)_bn", .batchNorm(BatchNormSpec()))
      if stride == 1 && out == channels { add("b\(b)_add", .add, [start, nodes.last!.name]) }
      channels = out
    }
    add("head", conv(1024))
    add("head_relu", relu6)
    add("gap", .globalPool2D(GlobalPool2DSpec(kind: .average)))
    add("predictions", .dense(DenseSpec(units: 10, activation: .softmax)))
    return Graph(name: "context-calibration", nodes: nodes, outputs: [nodes.last!.name])
  }
}
