import AdaTensor

/// Runs a multi-exit graph per input (docs/runtime.md, "Early exits"): a batch enters the first
/// segment; the inputs whose exit confidence reaches that exit's threshold leave there, and the
/// rest go on as a smaller batch. An input that leaves is never run further, and the head of an
/// exit without a threshold (`nil`) is not run at all.
///
/// The graph's outputs are the exits in depth order (shallowest first), then the final output;
/// every one is `[N, classes]`. Segment `k` runs the nodes exit `k`'s output needs that have not
/// run yet; after the last enabled exit, the nodes the final output needs. Between segments the
/// rows of the inputs that left are dropped, in place, from every activation a later node reads.
///
///     let exec = try ExitExecutor(graph: g, exits: ["b1_exit", "b2_exit"], confidence: .maxSoftmax)
///     let r = try exec.predict(x, parameters: p, thresholds: [0.9, nil])   // x: [N, 28, 28, 1]
///     r.output        // [N, 10], row i from the exit input i took
///     r.exitIndices   // [N]: 0 = first exit, 1 = second (not used here), 2 = final output
public struct ExitExecutor: Sendable {
  public let executor: Executor
  public let confidence: ExitConfidence
  /// Graph position of each exit's output node, shallowest first.
  public let exitNodes: [Int]
  /// Graph position of the final output node.
  public let finalNode: Int
  /// Whether each exit's output is probabilities (its node ends in softmax); logits otherwise.
  public let exitIsProbability: [Bool]
  /// Classes per output.
  public let classes: Int
  /// Per exit, then for the final output: whether each node is needed to compute it.
  let needed: [[Bool]]

  public var graph: Graph { executor.graph }
  public var exitCount: Int { exitNodes.count }

  /// Checks that `graph`'s outputs are `exits` (output node names, shallowest first) then the
  /// final output, each `[classes]` per example, and that each exit needs no backbone node the
  /// next one does not (depth order). Errors name `exits[k].output`.
  public init(graph: Graph, exits: [String], confidence: ExitConfidence) throws(AdaError) {
    let executor = try Executor(graph: graph)
    let index = graph.indexByName
    for (k, name) in exits.enumerated() where index[name] == nil {
      throw AdaError(
        .missing, path: "exits[\(k)].output",
        "no layer '\(name)' in model '\(graph.name)' (outputs: \(graph.outputs.joined(separator: ", ")))")
    }
    guard graph.outputs.count == exits.count + 1 else {
      throw AdaError(
        .invalidValue, path: "exits",
        "\(exits.count) exits need \(exits.count + 1) model outputs (the exits, then the final output), "
          + "model '\(graph.name)' has \(graph.outputs.count): \(graph.outputs.joined(separator: ", "))")
    }
    for (k, name) in exits.enumerated() where graph.outputs[k] != name {
      let position = graph.outputs.firstIndex(of: name).map { "output \($0)" } ?? "not a model output"
      throw AdaError(
        .invalidValue, path: "exits[\(k)].output",
        "'\(name)' is \(position) of the model; expected output \(k) (exits first, in depth order, "
          + "then the final output)")
    }
    let exitNodes = exits.map { index[$0]! }
    let finalNode = index[graph.outputs.last!]!
    let final = executor.shapes[finalNode]
    guard final.count == 1 else {
      throw AdaError(
        .badShape, path: graph.outputs.last!, "the final output must be [classes] per example, found \(final)"
      )
    }
    for (k, i) in exitNodes.enumerated() where executor.shapes[i] != final {
      throw AdaError(
        .badShape, path: "exits[\(k)].output",
        "exit '\(exits[k])' gives \(executor.shapes[i]) per example, the final output \(final)")
    }
    let needed = (exitNodes + [finalNode]).map { Self.ancestors(of: $0, executor.inputIndices) }
    // Depth order: the backbone an exit needs (what the final output needs too) is part of the
    // next exit's.
    for k in 0..<max(exits.count - 1, 0) {
      let backbone = graph.nodes.indices.filter { needed[k][$0] && needed[exits.count][$0] }
      if let j = backbone.first(where: { !needed[k + 1][$0] }) {
        throw AdaError(
          .invalidValue, path: "exits[\(k + 1)].output",
          "outputs are not in depth order: exit \(k) '\(exits[k])' needs '\(graph.nodes[j].name)', "
            + "which exit \(k + 1) '\(exits[k + 1])' does not")
      }
    }
    self.executor = executor
    self.confidence = confidence
    self.exitNodes = exitNodes
    self.finalNode = finalNode
    self.needed = needed
    classes = final[0]
    exitIsProbability = exitNodes.map { Self.endsInSoftmax(graph.nodes[$0].spec) }
  }

  /// Throws unless there is one threshold per exit, each nil or in [0, 1]. Errors name
  /// `thresholds[k]`.
  public func checkThresholds(_ thresholds: [Float?]) throws(AdaError) {
    guard thresholds.count == exitCount else {
      throw AdaError(
        .invalidValue, path: "thresholds",
        "expected one threshold per exit (\(exitCount)), found \(thresholds.count)")
    }
    for (k, t) in thresholds.enumerated() {
      guard let t else { continue }
      guard t.isFinite else {
        throw AdaError(.nonFinite, path: "thresholds[\(k)]", "expected a confidence in [0, 1], found \(t)")
      }
      guard t >= 0 && t <= 1 else {
        throw AdaError(.invalidValue, path: "thresholds[\(k)]", "expected a confidence in [0, 1], found \(t)")
      }
    }
  }

  /// Runs `x` (`[N] + input shape`), each input up to the first enabled exit whose confidence
  /// reaches its threshold (`confidence ≥ thresholds[k]`), else to the final output.
  public func predict(_ x: Tensor, parameters: Parameters, thresholds: [Float?]) throws(AdaError)
    -> ExitResult
  {
    var meter = ActivationMeter()
    return try predict(x, parameters: parameters, thresholds: thresholds, meter: &meter)
  }

  /// `predict`, counting activation bytes into `meter`.
  public func predict(
    _ x: Tensor, parameters: Parameters, thresholds: [Float?], meter: inout ActivationMeter
  ) throws(AdaError) -> ExitResult {
    try executor.checkInput(x)
    try checkThresholds(thresholds)
    let n = x.shape[0]
    let schedule = Schedule(self, enabled: thresholds.indices.filter { thresholds[$0] != nil })
    var values = [Tensor?](repeating: nil, count: graph.nodes.count)
    var heldBytes = [Int](repeating: 0, count: graph.nodes.count)
    var rowsRun = [Int](repeating: 0, count: graph.nodes.count)
    var exitIndices = [Int](repeating: exitCount, count: n)
    var rows = Array(0..<n)  // the input each live row belongs to
    var result: Tensor?

    func free(_ j: Int) {
      meter.release(heldBytes[j])
      heldBytes[j] = 0
      values[j] = nil
    }
    /// Copies the rows of `out` into `result` where `take[r]`; `result` starts as the first
    /// output computed on every row (its buffer becomes the result: no copy).
    func place(_ node: Int, take: [Bool], as exit: Int, stop: Int) {
      let out = values[node]!
      let owned = schedule.lastUse[node] < stop  // no reader in a later segment
      if result == nil, owned, out.shape[0] == n {
        result = out
        values[node] = nil  // its bytes stay counted: they are the result now
        heldBytes[node] = 0
      } else {
        if result == nil {
          result = Tensor(shape: [n, classes])
          meter.allocate(ActivationMeter.bytes(n * classes))
        }
        result!.scalars.withUnsafeMutableBufferPointer { dst in
          out.scalars.withUnsafeBufferPointer { src in
            for r in rows.indices where take[r] {
              for c in 0..<classes { dst[rows[r] * classes + c] = src[r * classes + c] }
            }
          }
        }
        if owned { free(node) }
      }
      for r in rows.indices where take[r] { exitIndices[rows[r]] = exit }
    }

    var position = 0
    for (stop, exit) in schedule.stops + [(schedule.order.count, exitCount)] where !rows.isEmpty {
      while position < stop {
        let i = schedule.order[position]
        let inputs = i == executor.inputNodeIndex ? [x] : executor.inputIndices[i].map { values[$0]! }
        let y = executor.runNode(i, inputs, parameters: parameters)
        rowsRun[i] += rows.count
        heldBytes[i] = ActivationMeter.bytes(y.count)
        meter.allocate(heldBytes[i])
        values[i] = y
        for j in executor.inputIndices[i] where schedule.lastUse[j] == position && values[j] != nil {
          free(j)
        }
        position += 1
      }
      if exit == exitCount {
        place(finalNode, take: [Bool](repeating: true, count: rows.count), as: exit, stop: stop)
        break
      }
      let node = exitNodes[exit]
      let scores = confidence.scores(values[node]!, isProbability: exitIsProbability[exit])
      let threshold = thresholds[exit]!
      let take = scores.map { $0 >= threshold }
      place(node, take: take, as: exit, stop: stop)
      guard take.contains(true) else { continue }
      let keep = rows.indices.filter { !take[$0] }
      rows = keep.map { rows[$0] }
      for j in values.indices where values[j] != nil {
        let before = values[j]!.count
        if rows.isEmpty {
          free(j)
        } else if Self.keepRows(keep, of: &values[j]!) {
          // Shared storage (the caller's input passed through) was copied before compacting.
          meter.allocate(ActivationMeter.bytes(before))
          heldBytes[j] += ActivationMeter.bytes(before)
        }
      }
    }
    for j in values.indices where values[j] != nil { free(j) }
    return ExitResult(
      output: result ?? Tensor(shape: [0, classes]), exitIndices: exitIndices, rowsRun: rowsRun,
      exitCount: exitCount)
  }

  // MARK: Helpers

  /// The order nodes run in for a set of enabled exits, where each exit's segment ends, and the
  /// position of each node's last reader.
  struct Schedule {
    /// Graph positions, segment after segment; each segment in graph (topological) order.
    var order: [Int] = []
    /// Per enabled exit: the end of its segment in `order` and the exit.
    var stops: [(Int, Int)] = []
    /// Position in `order` of the last node reading each node; outputs: their segment's end − 1
    /// at least (they are read at the stop).
    var lastUse: [Int]

    init(_ e: ExitExecutor, enabled: [Int]) {
      let count = e.graph.nodes.count
      var done = [Bool](repeating: false, count: count)
      for k in enabled + [e.exitCount] {
        for i in 0..<count where e.needed[k][i] && !done[i] {
          order.append(i)
          done[i] = true
        }
        if k < e.exitCount { stops.append((order.count, k)) }
      }
      lastUse = [Int](repeating: -1, count: count)
      for (p, i) in order.enumerated() {
        for j in e.executor.inputIndices[i] { lastUse[j] = max(lastUse[j], p) }
      }
      for (stop, k) in stops { lastUse[e.exitNodes[k]] = max(lastUse[e.exitNodes[k]], stop - 1) }
      lastUse[e.finalNode] = max(lastUse[e.finalNode], order.count - 1)
    }
  }

  /// `node` and every node it reads, directly or not.
  static func ancestors(of node: Int, _ inputIndices: [[Int]]) -> [Bool] {
    var needed = [Bool](repeating: false, count: inputIndices.count)
    needed[node] = true
    for i in stride(from: node, through: 0, by: -1) where needed[i] {
      for j in inputIndices[i] { needed[j] = true }
    }
    return needed
  }

  /// Whether a node's output is probabilities: a softmax layer, or a layer ending in softmax.
  static func endsInSoftmax(_ spec: LayerSpec) -> Bool {
    switch spec {
    case .softmax, .activation(.softmax): true
    case .dense(let d): d.activation == .softmax
    case .conv2D(let c): c.activation == .softmax
    default: false
    }
  }

  /// Keeps rows `keep` (ascending) of `t` in place: rows move down, the array shrinks and keeps
  /// its capacity. Returns whether the storage was shared and had to be copied first.
  static func keepRows(_ keep: [Int], of t: inout Tensor) -> Bool {
    let inner = t.shape.dropFirst().elementCount
    let before = t.scalars.withUnsafeBufferPointer { $0.baseAddress }
    var copied = false
    t.scalars.withUnsafeMutableBufferPointer { p in
      copied = UnsafePointer(p.baseAddress) != before
      guard let base = p.baseAddress else { return }
      for (to, from) in keep.enumerated() where to != from {
        (base + to * inner).update(from: base + from * inner, count: inner)
      }
    }
    t.scalars.removeLast(t.scalars.count - keep.count * inner)
    t.reshape([keep.count] + t.shape.dropFirst())
    return copied
  }
}

/// What `ExitExecutor.predict` returns.
public struct ExitResult: Equatable, Sendable {
  /// `[N, classes]`, in input order: row `i` from the exit input `i` took.
  public var output: Tensor
  /// Per input, the exit it took: `k` for exit `k`, `exitCount` for the final output.
  public var exitIndices: [Int]
  /// Per graph node (graph order), the rows it ran on (0: not run).
  public var rowsRun: [Int]
  public var exitCount: Int

  /// Inputs per exit, the final output last (`exitCount + 1` entries).
  public var histogram: [Int] {
    var h = [Int](repeating: 0, count: exitCount + 1)
    for e in exitIndices { h[e] += 1 }
    return h
  }
}
