import AdaNN
import AdaTensor
import Foundation

extension GAPHead {
  /// Refits, by ridge least squares on a calibration batch, every classifier head of `student`
  /// that reads global-average-pooled features where `teacher`'s head of the same name does not
  /// (what `gap-head` leaves: its composed-linear start ignores the relu of the old head).
  ///
  /// For such a head — an output Dense (or a Dense feeding an output Softmax) whose input is an
  /// average `GlobalPool2D` — with `g` `[N, C]` the student's pooled features on `inputs` and `z`
  /// `[N, classes]` the teacher's pre-softmax logits for the same output, the new kernel `K`
  /// `[C, classes]` and bias `b` minimise
  ///
  ///     ‖[g 1]·[K; b] − z‖² + λ‖K‖²,   λ = ridge · trace(gᵀg) / C
  ///
  /// solved by the normal equations `([g 1]ᵀ[g 1] + λ·diag(1…1, 0))·[K; b] = [g 1]ᵀz` (Cholesky,
  /// in Double). A softmax teacher output gives its logits only up to a per-example constant:
  /// `z` is `log p` centred over the classes. (The constant would be harmless anyway: every class
  /// column is fitted on the same features, so it adds the same error to every class of an
  /// example, which softmax ignores; centring keeps the targets at the logits' scale.) A linear
  /// output is used as is.
  /// A head without a bias gets one. Other heads and all other parameters are unchanged.
  ///
  /// A hidden Dense on pooled features (what `gap-head:hidden` leaves: a non-output Dense whose
  /// input is an average `GlobalPool2D` where its teacher namesake's is not) is fitted the same
  /// way to the teacher namesake's pre-activation output (its activation taken as linear); the
  /// Dense keeps its activation.
  ///
  ///     let start = try GAPHead.fitHeads(of: compressed, teacher: original, inputs: images[0..<1024])
  ///
  /// - Parameter inputs: `[N] + inputShape` calibration examples (`Distillation.fineTune` uses
  ///   the first 1,024 training images).
  /// - Parameter teacherInputs: the same examples as the teacher takes them when it reads its
  ///   own inputs (`Distillation.teacherInputs`); nil when it takes `inputs`.
  public static func fitHeads(
    of student: Model, teacher: Model, inputs: Tensor, teacherInputs: Tensor? = nil, ridge: Double = 1e-3
  ) throws(AdaError) -> Model {
    // (output index, head Dense, pooling node) of each head to refit.
    var heads: [(Int, Node, Node)] = []
    for (k, output) in student.graph.outputs.enumerated() where k < teacher.graph.outputs.count {
      guard let dense = headDense(output, in: student.graph),
        let pool = student.graph.node(named: dense.inputs[0]), isAveragePool(pool.spec),
        let teacherDense = teacher.graph.node(named: dense.name),
        !(teacher.graph.node(named: teacherDense.inputs.first ?? "").map { isAveragePool($0.spec) } ?? false)
      else { continue }
      heads.append((k, dense, pool))
    }
    let hidden = hiddenDenses(of: student, teacher: teacher, except: Set(heads.map(\.1.name)))
    if heads.isEmpty && hidden.isEmpty { return student }
    var result = student
    for (dense, pool) in hidden {
      // The teacher's pre-activation output of its namesake Dense (on the flattened map).
      var nodes = teacher.graph.nodes
      guard case .dense(var linear) = teacher.graph.node(named: dense.name)!.spec else { continue }
      linear.activation = .linear
      nodes[teacher.graph.indexByName[dense.name]!].spec = .dense(linear)
      let target = try Executor(graph: Graph(name: teacher.graph.name, nodes: nodes, outputs: [dense.name]))
        .predict(teacherInputs ?? inputs, parameters: teacher.parameters, batchSize: 256)[0]
      let probe = Graph(name: student.graph.name, nodes: student.graph.nodes, outputs: [pool.name])
      let features = try Executor(graph: probe).predict(
        inputs, parameters: student.parameters, batchSize: 256)[0]
      guard features.rank == 2, target.shape == [features.shape[0], linear.units],
        case .dense(var spec) = dense.spec
      else { continue }
      let (kernel, bias) = ridgeRegression(features, target, ridge: ridge)
      spec.useBias = true
      var studentNodes = result.graph.nodes
      studentNodes[result.graph.indexByName[dense.name]!].spec = .dense(spec)
      result.graph = Graph(name: result.graph.name, nodes: studentNodes, outputs: result.graph.outputs)
      result.parameters[dense.name, "kernel"] = kernel
      result.parameters[dense.name, "bias"] = bias
    }
    if heads.isEmpty { return result }
    let teacherOutputs = try Executor(graph: teacher.graph).predict(
      teacherInputs ?? inputs, parameters: teacher.parameters, batchSize: 256)
    for (k, dense, pool) in heads {
      let probe = Graph(name: student.graph.name, nodes: student.graph.nodes, outputs: [pool.name])
      let features = try Executor(graph: probe).predict(
        inputs, parameters: student.parameters, batchSize: 256)[0]
      let target = teacherLogits(
        teacherOutputs[k], softmax: endsInSoftmax(teacher.graph.outputs[k], teacher.graph))
      guard features.rank == 2,
        target.shape == [features.shape[0], student.parameters[dense.name, "kernel"]!.shape[1]]
      else { continue }
      let (kernel, bias) = ridgeRegression(features, target, ridge: ridge)
      guard case .dense(var spec) = dense.spec else { continue }
      spec.useBias = true
      var nodes = result.graph.nodes
      nodes[result.graph.indexByName[dense.name]!].spec = .dense(spec)
      result.graph = Graph(name: result.graph.name, nodes: nodes, outputs: result.graph.outputs)
      result.parameters[dense.name, "kernel"] = kernel
      result.parameters[dense.name, "bias"] = bias
    }
    return result
  }

  /// (Dense, pooling node) of every non-output Dense of `student` reading average-pooled
  /// features where `teacher`'s Dense of the same name does not.
  static func hiddenDenses(of student: Model, teacher: Model, except heads: Set<String>) -> [(Node, Node)] {
    student.graph.nodes.compactMap { node -> (Node, Node)? in
      guard case .dense = node.spec, !heads.contains(node.name), !student.graph.outputs.contains(node.name),
        let pool = student.graph.node(named: node.inputs[0]), isAveragePool(pool.spec),
        let teacherDense = teacher.graph.node(named: node.name), case .dense = teacherDense.spec,
        let teacherInput = teacher.graph.node(named: teacherDense.inputs[0]),
        !isAveragePool(teacherInput.spec)
      else { return nil }
      return (node, pool)
    }
  }

  /// `x` `[N, C]`, `y` `[N, K]` → kernel `[C, K]`, bias `[K]` minimising
  /// `‖x·kernel + bias − y‖² + λ‖kernel‖²`, `λ = ridge · trace(xᵀx) / C`. Plain loops in Double.
  static func ridgeRegression(_ x: Tensor, _ y: Tensor, ridge: Double) -> (kernel: Tensor, bias: Tensor) {
    let (n, c, k) = (x.shape[0], x.shape[1], y.shape[1])
    let d = c + 1  // features and a constant 1
    var a = [Double](repeating: 0, count: d * d)
    var b = [Double](repeating: 0, count: d * k)
    var row = [Double](repeating: 1, count: d)
    for i in 0..<n {
      for j in 0..<c { row[j] = Double(x.scalars[i * c + j]) }
      for p in 0..<d {
        let rp = row[p]
        if rp == 0 { continue }
        for q in p..<d { a[p * d + q] += rp * row[q] }
        for t in 0..<k { b[p * k + t] += rp * Double(y.scalars[i * k + t]) }
      }
    }
    for p in 0..<d { for q in 0..<p { a[p * d + q] = a[q * d + p] } }
    let trace = (0..<c).reduce(0.0) { $0 + a[$1 * d + $1] }
    let lambda = max(ridge * trace / Double(max(c, 1)), 1e-12)
    for p in 0..<c { a[p * d + p] += lambda }
    let w = choleskySolve(a, b, size: d, columns: k)
    var kernel = Tensor(shape: [c, k])
    var bias = Tensor(shape: [k])
    for p in 0..<c { for t in 0..<k { kernel.scalars[p * k + t] = Float(w[p * k + t]) } }
    for t in 0..<k { bias.scalars[t] = Float(w[c * k + t]) }
    return (kernel, bias)
  }

  /// Solves `a·w = b` for symmetric positive definite `a` `[size, size]`, `b` `[size, columns]`:
  /// `a = L·Lᵀ`, then forward and back substitution.
  static func choleskySolve(_ a: [Double], _ b: [Double], size d: Int, columns k: Int) -> [Double] {
    var l = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
      for j in 0...i {
        var s = a[i * d + j]
        for p in 0..<j { s -= l[i * d + p] * l[j * d + p] }
        l[i * d + j] = i == j ? (max(s, 1e-300)).squareRoot() : s / l[j * d + j]
      }
    }
    var w = b
    for t in 0..<k {
      for i in 0..<d {  // L·u = b
        var s = w[i * k + t]
        for p in 0..<i { s -= l[i * d + p] * w[p * k + t] }
        w[i * k + t] = s / l[i * d + i]
      }
      for i in stride(from: d - 1, through: 0, by: -1) {  // Lᵀ·w = u
        var s = w[i * k + t]
        for p in (i + 1)..<d { s -= l[p * d + i] * w[p * k + t] }
        w[i * k + t] = s / l[i * d + i]
      }
    }
    return w
  }

  /// `[N, K]` logits: the output itself, or `log p` centred over the classes for probabilities.
  static func teacherLogits(_ output: Tensor, softmax: Bool) -> Tensor {
    guard softmax else { return output }
    let k = output.shape[1]
    var z = output
    for i in 0..<output.shape[0] {
      var mean: Float = 0
      for t in 0..<k {
        z.scalars[i * k + t] = logf(max(output.scalars[i * k + t], 1e-30))
        mean += z.scalars[i * k + t]
      }
      mean /= Float(k)
      for t in 0..<k { z.scalars[i * k + t] -= mean }
    }
    return z
  }

  /// The Dense that computes output `name`: the output itself, or the Dense before an output Softmax.
  static func headDense(_ name: String, in graph: Graph) -> Node? {
    guard let node = graph.node(named: name) else { return nil }
    if case .dense = node.spec { return node }
    guard isSoftmaxLayer(node.spec), let input = graph.node(named: node.inputs[0]), case .dense = input.spec
    else { return nil }
    return input
  }

  static func endsInSoftmax(_ name: String, _ graph: Graph) -> Bool {
    guard let node = graph.node(named: name) else { return false }
    if case .dense(let d) = node.spec { return d.activation == .softmax }
    return isSoftmaxLayer(node.spec)
  }

  static func isSoftmaxLayer(_ spec: LayerSpec) -> Bool {
    switch spec {
    case .softmax, .activation(.softmax): true
    default: false
    }
  }

  static func isAveragePool(_ spec: LayerSpec) -> Bool {
    if case .globalPool2D(let g) = spec { return g.kind == .average && !g.keepDims }
    return false
  }
}
