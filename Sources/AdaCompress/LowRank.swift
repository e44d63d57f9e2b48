import AdaNN
import AdaTensor

/// `low-rank`: factorises a Dense or Conv2D layer through a rank-`r` bottleneck, initialised from
/// the truncated SVD of its kernel (`W ≈ U_r Σ_r V_rᵀ`, √Σ on both sides).
///
/// - Dense `[in, out]` → Dense(r, no bias, linear) with kernel `U_r √Σ_r` `[in, r]`, then
///   Dense(out) with kernel `√Σ_r V_rᵀ` `[r, out]` and the original bias and activation.
/// - Conv2D k×k `[kh, kw, in, out]`, seen as the matrix `[kh·kw·in, out]` → Conv2D k×k with r
///   filters (same strides, padding, dilation; no bias, linear) then Conv2D 1×1 (original bias
///   and activation).
///
/// The second node keeps the original name (outputs and consumers are unchanged); the first is
/// `<name>_lowrank`. At full rank the outputs are reproduced up to rounding.
///
///     try LowRank(rank: .ratio(0.25)).apply(to: model, selecting: .filter(kinds: ["dense"], minimumParams: 10_000))
public struct LowRank: CompressionOperator, Codable, Hashable {
  public enum Rank: Codable, Hashable, Sendable {
    /// A fraction in (0, 1] of the full rank `min(m, n)`, rounded, at least 1.
    case ratio(Double)
    /// A fixed rank, capped at the full rank.
    case absolute(Int)
  }

  public static let id = "low-rank"
  public var rank: Rank
  /// Skip (treat as not eligible) layers whose factorisation would not have fewer parameters.
  public var requireReduction: Bool

  public init(rank: Rank = .ratio(0.25), requireReduction: Bool = true) {
    self.rank = rank
    self.requireReduction = requireReduction
  }

  /// `low-rank:0.25` (ratio) or `low-rank:r8` (absolute); `:any-size` when not requiring a reduction.
  public var description: String {
    let r =
      switch rank {
      case .ratio(let x): "\(x)"
      case .absolute(let k): "r\(k)"
      }
    return "\(Self.id):\(r)" + (requireReduction ? "" : ":any-size")
  }

  /// The rank used for a `[m, n]` kernel matrix.
  public func rank(rows m: Int, columns n: Int) -> Int {
    let full = min(m, n)
    switch rank {
    case .ratio(let x): return min(full, max(1, Int((x * Double(full)).rounded())))
    case .absolute(let k): return min(full, max(1, k))
    }
  }

  /// The kernel as a matrix `[m, n]`: Dense `[in, out]`, Conv2D `[kh·kw·in, out]`.
  func matrixShape(_ node: Node, in model: Model) -> (m: Int, n: Int)? {
    guard let shape = model.parameters[node.name, "kernel"]?.shape else { return nil }
    switch node.spec {
    case .dense, .conv2D: return (shape.dropLast().elementCount, shape.last!)
    default: return nil
    }
  }

  public func isEligible(_ node: Node, in model: Model) -> Bool {
    ineligibilityReason(node, in: model) == nil
  }

  public func ineligibilityReason(_ node: Node, in model: Model) -> String? {
    guard let (m, n) = matrixShape(node, in: model) else {
      return "low-rank rewrites conv2d and dense layers"
    }
    let r = rank(rows: m, columns: n)
    if requireReduction && r * (m + n) >= m * n {
      return "rank \(r) would not reduce its \(m)×\(n) kernel (\(r * (m + n)) ≥ \(m * n) weights)"
    }
    return nil
  }

  public func apply(
    to model: Model, selecting selection: LayerSelection
  ) throws(AdaError) -> CompressionResult {
    switch rank {
    case .ratio(let x) where !(x > 0 && x <= 1):
      throw AdaError(.invalidValue, path: "\(Self.id).rank", "expected a ratio in (0, 1], found \(x)")
    case .absolute(let k) where k < 1:
      throw AdaError(.invalidValue, path: "\(Self.id).rank", "expected a rank ≥ 1, found \(k)")
    default: break
    }
    var rewriter = GraphRewriter(model)
    for name in try selectedNodes(in: model, selection) {
      try factorise(model.graph.node(named: name)!, in: &rewriter)
    }
    return try rewriter.result(operation: description)
  }

  func factorise(_ node: Node, in rewriter: inout GraphRewriter) throws(AdaError) {
    let name = node.name
    let kernel = rewriter.parameters[name, "kernel"]!
    let (m, n) = (kernel.shape.dropLast().elementCount, kernel.shape.last!)
    let r = rank(rows: m, columns: n)
    let svd: SVD
    do {
      svd = try SVD(of: kernel.reshaped([m, n])).truncated(rank: r)
    } catch {
      throw error.at(name)
    }
    let (left, right) = svd.balancedFactors()  // [m, r], [r, n]
    let first = rewriter.uniqueName("\(name)_lowrank")
    var p = Parameters()
    let chain: [Node]
    switch node.spec {
    case .dense(let s):
      chain = [
        Node(name: first, spec: .dense(DenseSpec(units: r, useBias: false)), inputs: []),
        Node(
          name: name, spec: .dense(DenseSpec(units: n, useBias: s.useBias, activation: s.activation)),
          inputs: []),
      ]
      p[first, "kernel"] = left
      p[name, "kernel"] = right
    case .conv2D(let s):
      let reduce = Conv2DSpec(
        filters: r, kernel: s.kernel, strides: s.strides, padding: s.padding, dilation: s.dilation,
        useBias: false)
      let expand = Conv2DSpec(
        filters: n, kernel: .square(1), useBias: s.useBias, activation: s.activation)
      chain = [
        Node(name: first, spec: .conv2D(reduce), inputs: []),
        Node(name: name, spec: .conv2D(expand), inputs: []),
      ]
      p[first, "kernel"] = left.reshaped(Array(kernel.shape.dropLast()) + [r])
      p[name, "kernel"] = right.reshaped([1, 1, r, n])
    default:
      preconditionFailure("LowRank.factorise: \(name) is not dense or conv2d")
    }
    if let bias = rewriter.parameters[name, "bias"] { p[name, "bias"] = bias }
    rewriter.replace(name, withChain: chain, parameters: p)
  }
}
