import AdaNN
import AdaTensor

extension Supernet {
  /// The standalone graph of `config` and the map from its weights to the shared store.
  ///
  /// 1. Outputs: the model's own, or only the chosen exit head; skipped residual units are
  ///    bypassed (their Add reads as its shortcut); unreachable nodes go; the input takes the
  ///    configuration's resolution.
  /// 2. Branches: each block whose branch is not `base` is replaced by that branch's nodes.
  /// 3. Widths: the channels outside each block's kept prefix are removed with the same
  ///    coupled slicing as `prune-channels` (consumers, batch-norms, depthwise layers follow).
  ///
  /// Steps 2–3 run on an *index image* of the weights — each tensor filled with its own flat
  /// indices (exact in Float32 below 2²⁴ elements) — so what survives the rewrite says exactly
  /// which store elements each subnet weight reads. Gathering and scattering gradients then need
  /// no knowledge of the operators.
  ///
  /// - Throws: `AdaError` when `config` names an unknown block or a setting the block does not
  ///   offer (see `validate(_:)`).
  public func materialize(_ config: SubnetConfig) throws(AdaError) -> Subnet {
    try validate(config)
    let outputs = config.exit == SubnetConfig.mainExit ? source.graph.outputs : [exitOutputs[config.exit]!]
    let graph = atResolution(of: config, skippingUnits(of: config, in: trunk).keepingOnly(outputs: outputs))
    var storeKeys: [String: String] = [:]
    var image = Parameters()
    for node in graph.nodes {
      let prefix = node.name + "/"
      for key in weights.keys where key.hasPrefix(prefix) {
        storeKeys[key] = key
        image.tensors[key] = Self.indexImage(of: weights.tensors[key]!)
      }
    }
    var rewriter = GraphRewriter(Model(graph: graph, parameters: image))
    var quantized: [Subnet.Quantization] = []
    for choice in config.blocks where rewriter.node(choice.block) != nil {
      var nodes = [choice.block]
      if choice.branch != SubnetConfig.baseBranch {
        let key = Self.branchKey(choice.block, choice.branch)
        let replacement = branchNodes[key]!
        var p = Parameters()
        for node in replacement {
          let prefix = key + "#" + node.name + "/"
          for storeKey in weights.keys where storeKey.hasPrefix(prefix) {
            let local = String(storeKey.dropFirst(key.count + 1))
            storeKeys[local] = storeKey
            p.tensors[local] = Self.indexImage(of: weights.tensors[storeKey]!)
          }
        }
        rewriter.replace(choice.block, with: replacement, parameters: p)
        nodes = replacement.map(\.name)
      }
      if choice.bits < 32 {
        let kernels = nodes.filter {
          QuantizedTensor.channelAxis(of: rewriter.node($0)!.spec, weight: "kernel") != nil
        }
        quantized.append(Subnet.Quantization(bits: choice.bits, nodes: kernels))
      }
    }
    try sliceWidths(config, in: &rewriter)
    var sources: [Subnet.WeightSource] = []
    for key in rewriter.parameters.keys {
      let t = rewriter.parameters.tensors[key]!
      let storeKey = storeKeys[key]!
      let whole = weights.tensors[storeKey]!
      let identity = t.shape == whole.shape
      sources.append(
        Subnet.WeightSource(
          key: key, storeKey: storeKey, shape: t.shape,
          indices: identity ? nil : t.scalars.map { Int32($0) }))
    }
    return Subnet(config: config, graph: rewriter.graph, sources: sources, quantization: quantized)
  }

  /// Removes each elastic block's channels beyond its kept prefix (and what is coupled to them).
  private func sliceWidths(_ config: SubnetConfig, in rewriter: inout GraphRewriter) throws(AdaError) {
    let narrowed = config.blocks.filter { $0.width < 1 && rewriter.node($0.block) != nil }
    guard !narrowed.isEmpty else { return }
    let coupling = try ChannelCoupling(graph: rewriter.graph)
    var removed = Set<Int>()
    for choice in narrowed {
      let block = self.block(choice.block)!
      let atoms = coupling.atoms(of: choice.block)
      for c in block.channelOrder.dropFirst(block.keptChannels(choice.width)) {
        let k = coupling.classOf(atoms.lowerBound + c)
        if !coupling.isFixed(class: k) { removed.insert(k) }
      }
    }
    let pruner = PruneChannels()
    for node in rewriter.graph.nodes {
      try pruner.slice(node, keeping: coupling, removing: removed, in: &rewriter)
    }
  }

  /// `graph` with the residual units `config` does not keep bypassed, last first, so a chain of
  /// skipped units collapses onto the stage's input.
  func skippingUnits(of config: SubnetConfig, in graph: Graph) -> Graph {
    var g = graph
    for (stage, depth) in zip(stages, config.depths).reversed() {
      for unit in stage.units.dropFirst(depth).reversed() { g = g.redirecting(unit.add, to: unit.skip) }
    }
    return g
  }

  /// A tensor of `t`'s shape holding its flat indices.
  static func indexImage(of t: Tensor) -> Tensor {
    precondition(t.count < maximumWeightCount, "Supernet: init admits only weights below 2²⁴ elements")
    return Tensor(shape: t.shape, scalars: (0..<t.count).map { Float($0) })
  }

  /// Checks that every block is configured once, in order, with settings it offers, and that
  /// the exit exists.
  public func validate(_ config: SubnetConfig) throws(AdaError) {
    guard config.blocks.map(\.block) == blocks.map(\.name) else {
      throw AdaError(
        .invalidValue, path: "config.blocks",
        "expected blocks \(blocks.map(\.name)), found \(config.blocks.map(\.block))")
    }
    for (choice, block) in zip(config.blocks, blocks) {
      let path = "config.\(block.name)"
      guard block.branches.contains(choice.branch) else {
        throw AdaError(
          .invalidValue, path: path, "branch '\(choice.branch)' is not offered (\(block.branches))")
      }
      guard block.widths.contains(choice.width) else {
        throw AdaError(.invalidValue, path: path, "width \(choice.width) is not offered (\(block.widths))")
      }
      guard choice.width == 1 || block.supportsWidth(branch: choice.branch) else {
        throw AdaError(.invalidValue, path: path, "branch '\(choice.branch)' runs at full width only")
      }
      guard block.bits.contains(choice.bits) else {
        throw AdaError(.invalidValue, path: path, "\(choice.bits) bits are not offered (\(block.bits))")
      }
    }
    for group in widthGroups {
      let widths = Set(group.map { config[block: $0]!.width })
      guard widths.count == 1 else {
        throw AdaError(
          .invalidValue, path: "config.\(group[0])", "coupled blocks \(group) must share one width")
      }
    }
    guard config.depths.count == stages.count else {
      throw AdaError(
        .invalidValue, path: "config.depths",
        "expected \(stages.count) stage depths, found \(config.depths.count)")
    }
    for (stage, depth) in zip(stages, config.depths)
    where depth < minDepth(stage) || depth > stage.units.count {
      throw AdaError(
        .invalidValue, path: "config.depths",
        "stage \(stage.name) keeps \(minDepth(stage))…\(stage.units.count) units, found \(depth)")
    }
    let offered =
      resolutions.isEmpty ? config.resolution == nil : resolutions.contains(config.resolution ?? -1)
    guard offered else {
      throw AdaError(
        .invalidValue, path: "config.resolution",
        "resolution \(config.resolution.map(String.init) ?? "nil") is not offered (\(resolutions))")
    }
    guard config.exit == SubnetConfig.mainExit || exits.contains(config.exit) else {
      throw AdaError(.invalidValue, path: "config.exit", "no exit after '\(config.exit)' (exits: \(exits))")
    }
  }
}
