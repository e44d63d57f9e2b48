import AdaNN
import AdaTensor

extension PruneChannels {
  /// Shrinks one node's spec and weights to the surviving channels of its input (`inKeep`) and
  /// output (`outKeep`). Nodes without weights need no change: their shapes follow their inputs.
  func slice(
    _ node: Node, keeping coupling: ChannelCoupling, removing removed: Set<Int>,
    in rewriter: inout GraphRewriter
  ) throws(AdaError) {
    let outKeep = coupling.keptIndices(of: node.name, removing: removed)
    let outChanged = outKeep.count < coupling.maps[node.name]!.count
    let input = node.inputs.first
    let inKeep = input.map { coupling.keptIndices(of: $0, removing: removed) } ?? []
    let inChanged = input.map { inKeep.count < coupling.maps[$0]!.count } ?? false
    guard inChanged || outChanged else { return }
    let name = node.name
    func weight(_ w: String) -> Tensor { rewriter.parameters[name, w]! }
    switch node.spec {
    case .conv2D(var s):
      var kernel = weight("kernel")  // [kh, kw, in, out]
      if inChanged { kernel = kernel.gathering(inKeep, axis: 2) }
      if outChanged {
        kernel = kernel.gathering(outKeep, axis: 3)
        if s.useBias { rewriter.setParameter(name, "bias", weight("bias").gathering(outKeep, axis: 0)) }
      }
      rewriter.setParameter(name, "kernel", kernel)
      s.filters = outKeep.count
      rewriter.setSpec(name, .conv2D(s))
    case .dense(var s):
      var kernel = weight("kernel")  // [in, out]
      if inChanged { kernel = kernel.gathering(inKeep, axis: 0) }
      if outChanged {
        kernel = kernel.gathering(outKeep, axis: 1)
        if s.useBias { rewriter.setParameter(name, "bias", weight("bias").gathering(outKeep, axis: 0)) }
      }
      rewriter.setParameter(name, "kernel", kernel)
      s.units = outKeep.count
      rewriter.setSpec(name, .dense(s))
    case .depthwiseConv2D(let s):
      // [kh, kw, in, multiplier]; output channel c·m + j follows input channel c.
      rewriter.setParameter(name, "kernel", weight("kernel").gathering(inKeep, axis: 2))
      if s.useBias { rewriter.setParameter(name, "bias", weight("bias").gathering(outKeep, axis: 0)) }
    case .separableConv2D(let s):
      let m = s.depthMultiplier
      let expanded = inKeep.flatMap { c in (0..<m).map { c * m + $0 } }
      rewriter.setParameter(
        name, "depthwiseKernel", weight("depthwiseKernel").gathering(inKeep, axis: 2))
      rewriter.setParameter(
        name, "pointwiseKernel", weight("pointwiseKernel").gathering(expanded, axis: 2))
    case .batchNorm(let s):
      var names = ["movingMean", "movingVariance"]
      if s.center { names.insert("beta", at: 0) }
      if s.scale { names.insert("gamma", at: 0) }
      for w in names { rewriter.setParameter(name, w, weight(w).gathering(inKeep, axis: 0)) }
    default:
      break
    }
  }
}

extension Tensor {
  /// The slices at `indices` (in that order) along `axis`; other axes unchanged.
  ///
  ///     // [3, 3, 16, 32].gathering([0, 2, 5], axis: 3) → [3, 3, 16, 3]
  func gathering(_ indices: [Int], axis: Int) -> Tensor {
    precondition(axis >= 0 && axis < rank, "gathering: axis \(axis) out of range for \(shape)")
    let outer = shape[..<axis].elementCount
    let inner = shape[(axis + 1)...].elementCount
    let size = shape[axis]
    precondition(indices.allSatisfy { $0 >= 0 && $0 < size }, "gathering: index out of range")
    var newShape = shape
    newShape[axis] = indices.count
    var out = [Float]()
    out.reserveCapacity(outer * indices.count * inner)
    for o in 0..<outer {
      for i in indices {
        let start = (o * size + i) * inner
        out.append(contentsOf: scalars[start..<(start + inner)])
      }
    }
    return Tensor(shape: newShape, scalars: out)
  }
}
