import AdaNN
import AdaTensor

/// `gap-head` — replaces a classifier head `Flatten → Dense → … → Dense(classes)` (with Dropout
/// and activations between the Dense layers) by `GlobalAveragePooling2D → Dense(classes)`
/// (Lin et al., *Network in Network*, 2014). The final Dense keeps its name, units and
/// activation (and a trailing Softmax layer stays), so the model's outputs are unchanged in name
/// and shape.
///
/// The layer to select is the Flatten (a `flatten`, or a `reshape` to one dimension, of an
/// `[H, W, C]` feature map). Eligible when every node of the head has one consumer, the head
/// holds only Dense, Dropout, ReLU and (non-softmax) Activation layers and ends at a graph output,
/// and the new head has fewer parameters.
///
/// Initialisation (then distillation): the head is composed as if it were linear (activations
/// and dropout treated as identity), `K = S·W₂·…·W_m`, `β = b₁·W₂·…·W_m + … + b_m`, where
/// `S[c, :] = Σ_{h,w} W₁[(h·W + w)·C + c, :]` sums the first Dense's rows over the spatial
/// positions of channel `c`. GAP feeds `mean_{h,w} x[h, w, c]`, so the new head is exact when
/// the head is one Dense (or linear) and the feature map is spatially constant; otherwise it is
/// the linear part of the old head, a starting point for distillation.
///
/// With `keepHidden` (`gap-head:hidden`) only the Flatten becomes GlobalAveragePooling2D: the
/// first Dense keeps its units and activation and reads the pooled `[C]` features with kernel
/// `S` (above) and its bias, and the rest of the head is unchanged, so
/// `GAP → Dense(hidden) → … → Dense(classes)`. Eligible when the head has at least two Dense
/// layers. It is exact on spatially constant feature maps.
///
///     let result = try GAPHead().apply(to: model, selecting: .all)   // flatten → gap, fc1 gone
///     let hidden = try GAPHead(keepHidden: true).apply(to: model, selecting: .all)  // fc1 [C, 128]
public struct GAPHead: CompressionOperator, Codable, Hashable {
  public static let id = "gap-head"

  /// Keep the first Dense of the head (on pooled features) instead of folding the whole head.
  public var keepHidden: Bool

  public init(keepHidden: Bool = false) {
    self.keepHidden = keepHidden
  }

  public var description: String { keepHidden ? "\(Self.id):hidden" : Self.id }

  public func isEligible(_ node: Node, in model: Model) -> Bool {
    ineligibilityReason(node, in: model) == nil
  }

  public func ineligibilityReason(_ node: Node, in model: Model) -> String? {
    switch plan(node, in: model) {
    case .success: nil
    case .failure(let reason): reason.text
    }
  }

  public func apply(to model: Model, selecting selection: LayerSelection) throws(AdaError)
    -> CompressionResult
  {
    var rewriter = GraphRewriter(model)
    for name in try selectedNodes(in: model, selection) {
      guard case .success(let head) = plan(model.graph.node(named: name)!, in: model) else { continue }
      let flatten = model.graph.node(named: name)!
      let gap = rewriter.uniqueName("\(name)_gap")
      rewriter.replace(
        name,
        with: [
          Node(name: gap, spec: .globalPool2D(GlobalPool2DSpec(kind: .average)), inputs: flatten.inputs)
        ],
        parameters: Parameters())
      if keepHidden {
        rewriter.setParameter(head.denses[0], "kernel", summedRows(head, model))
        continue
      }
      for bypassed in head.passThrough + head.denses.dropLast() { rewriter.bypass(bypassed) }
      let (kernel, bias) = composedWeights(head, model)
      guard case .dense(var last) = model.graph.node(named: head.denses.last!)!.spec else { continue }
      last.useBias = bias != nil
      rewriter.setSpec(head.denses.last!, .dense(last))
      rewriter.setParameter(head.denses.last!, "kernel", kernel)
      rewriter.setParameter(head.denses.last!, "bias", bias)
    }
    return try rewriter.result(operation: description)
  }

  /// The head behind a Flatten node.
  struct Head {
    /// `[H, W, C]` of the Flatten's input.
    var featureShape: [Int]
    /// Dense layers, in order; the last one produces the classes.
    var denses: [String]
    /// Dropout and activation nodes between them.
    var passThrough: [String]
  }

  struct Reason: Error {
    var text: String
  }

  func plan(_ node: Node, in model: Model) -> Result<Head, Reason> {
    let graph = model.graph
    func fail(_ text: String) -> Result<Head, Reason> { .failure(Reason(text: text)) }
    switch node.spec {
    case .flatten: break
    case .reshape(let r) where r.targetShape.count == 1: break
    default: return fail("select the Flatten of a classifier head")
    }
    guard let shapes = try? graph.inferShapes(), let feature = shapes[node.inputs[0]], feature.count == 3
    else {
      return fail("the Flatten's input is not an [H, W, C] feature map")
    }
    let readers = graph.consumers
    var head = Head(featureShape: feature, denses: [], passThrough: [])
    var current = node
    walk: while true {
      let next = readers[current.name] ?? []
      if graph.outputs.contains(current.name) {
        guard next.isEmpty, head.denses.last == current.name else {
          return fail("'\(current.name)' is a model output inside the head")
        }
        break
      }
      guard next.count == 1, let n = graph.node(named: next[0]) else {
        return fail("'\(current.name)' feeds \(next.count) layers; the head must be a chain")
      }
      if isSoftmax(n.spec) {
        guard head.denses.last == current.name, graph.outputs.contains(n.name),
          (readers[n.name] ?? []).isEmpty
        else { return fail("a Softmax inside the head ('\(n.name)') cannot be folded") }
        break walk
      }
      switch n.spec {
      case .dense: head.denses.append(n.name)
      case .dropout: head.passThrough.append(n.name)
      case .relu, .activation:
        guard !head.denses.isEmpty else {
          return fail("an activation ('\(n.name)') precedes the first Dense")
        }
        head.passThrough.append(n.name)
      default:
        return fail(
          "the head contains '\(n.name)' (\(n.spec.kindName)); only Dense, Dropout and activations are folded"
        )
      }
      current = n
    }
    guard let last = head.denses.last, case .dense(let spec) = graph.node(named: last)!.spec else {
      return fail("the head has no Dense layer")
    }
    let before = head.denses.reduce(0) { sum, d in
      sum + (model.parameters[d, "kernel"]?.count ?? 0) + (model.parameters[d, "bias"]?.count ?? 0)
    }
    let anyBias = head.denses.contains { model.parameters[$0, "bias"] != nil }
    var after = feature[2] * spec.units + (anyBias ? spec.units : 0)
    if keepHidden {
      guard head.denses.count >= 2, let w1 = model.parameters[head.denses[0], "kernel"] else {
        return fail("gap-head:hidden needs a head of at least two Dense layers")
      }
      after = before - w1.count + feature[2] * w1.shape[1]
    }
    guard after < before else {
      return fail("GAP + Dense would have \(after) parameters, not fewer than the head's \(before)")
    }
    return .success(head)
  }

  private func isSoftmax(_ spec: LayerSpec) -> Bool {
    switch spec {
    case .softmax, .activation(.softmax): true
    default: false
    }
  }

  /// The linear composition of the head on GAP features (see the type's description):
  /// kernel `[C, classes]`, and a bias `[classes]` when any Dense of the head has one.
  func composedWeights(_ head: Head, _ model: Model) -> (kernel: Tensor, bias: Tensor?) {
    var k = summedRows(head, model)
    let n1 = k.shape[1]
    let anyBias = head.denses.contains { model.parameters[$0, "bias"] != nil }
    var beta = model.parameters[head.denses[0], "bias"] ?? Tensor(shape: [n1])
    for d in head.denses.dropFirst() {
      let w = model.parameters[d, "kernel"]!
      k = matmul(k, w)
      beta = matmul(beta.reshaped([1, beta.count]), w).reshaped([w.shape[1]])
      if let b = model.parameters[d, "bias"] { beta.add(b) }
    }
    return (k, anyBias ? beta : nil)
  }

  /// `S` `[C, n1]`: the first Dense's kernel rows summed over the spatial positions of each channel.
  func summedRows(_ head: Head, _ model: Model) -> Tensor {
    let (positions, c) = (head.featureShape[0] * head.featureShape[1], head.featureShape[2])
    let w1 = model.parameters[head.denses[0], "kernel"]!
    let n1 = w1.shape[1]
    var k = Tensor(shape: [c, n1])
    for p in 0..<positions {
      for ch in 0..<c {
        for j in 0..<n1 { k.scalars[ch * n1 + j] += w1.scalars[(p * c + ch) * n1 + j] }
      }
    }
    return k
  }

  /// `[m, k] · [k, n]`, plain loops (head matrices are small).
  private func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    let (m, kk, n) = (a.shape[0], a.shape[1], b.shape[1])
    var c = Tensor(shape: [m, n])
    for i in 0..<m {
      for p in 0..<kk {
        let x = a.scalars[i * kk + p]
        if x == 0 { continue }
        for j in 0..<n { c.scalars[i * n + j] += x * b.scalars[p * n + j] }
      }
    }
    return c
  }
}
