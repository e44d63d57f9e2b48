import AdaNN
import AdaTensor
import AdaTrain

extension Supernet {
  /// The source model itself: every block at `base`, full width, float weights, every unit, the
  /// source's resolution, no exit.
  public var largest: SubnetConfig {
    SubnetConfig(
      blocks: blocks.map { SupernetBlock.Choice(block: $0.name) }, depths: stages.map(\.units.count),
      resolution: resolutions.first)
  }

  /// Fewest units `stage` keeps.
  public func minDepth(_ stage: ResidualStage) -> Int { min(options.minDepth, stage.units.count) }

  /// Depths `stage` may take, deepest first.
  public func depthChoices(_ stage: ResidualStage) -> [Int] {
    Array((minDepth(stage)...stage.units.count).reversed())
  }

  /// The cheapest configuration: every block at its smallest width and fewest bits, on the
  /// branch with the fewest weights (at full width for branches that need it), every stage at
  /// its least depth, the lowest resolution, no exit.
  public var smallest: SubnetConfig { smallest(openness: 1) }

  /// The cheapest configuration among the choices open at `openness` (see `random`).
  public func smallest(openness f: Double) -> SubnetConfig {
    let choices = blocks.map { block in
      let branch = Self.open(block.branches, f).min {
        branchWeightCount(block.name, $0) < branchWeightCount(block.name, $1)
      }!
      return SupernetBlock.Choice(
        block: block.name, branch: branch, width: Self.open(block.widths, f).last!,
        bits: Self.open(block.bits, f).last!)
    }
    return repair(
      SubnetConfig(
        blocks: choices, depths: stages.map { Self.open(depthChoices($0), f).last! },
        resolution: Self.open(resolutions, f).last))
  }

  /// A configuration drawn uniformly per block (branch, width, bits), per stage (depth), over
  /// the resolutions and over the exits (`main` included), then repaired.
  ///
  /// With `openness` f < 1 only the first `1 + ⌊f·(n − 1)⌋` of each list of n choices (they are
  /// ordered from the source's own to the cheapest) can be drawn: progressive shrinking, the
  /// space opening from the largest configuration towards the smallest as training goes on.
  /// At f = 1 the draws are exactly those of the full space.
  public func random(using g: inout SeededGenerator, openness f: Double = 1) -> SubnetConfig {
    func draw<T>(_ list: [T]) -> T {
      let open = Self.open(list, f)
      return open[g.nextIndex(below: open.count)]
    }
    let choices = blocks.map { block in
      SupernetBlock.Choice(
        block: block.name, branch: draw(block.branches), width: draw(block.widths), bits: draw(block.bits))
    }
    let depths = stages.map { draw(depthChoices($0)) }
    let resolution = resolutions.isEmpty ? nil : draw(resolutions)
    return repair(
      SubnetConfig(
        blocks: choices, depths: depths, resolution: resolution, exit: draw([SubnetConfig.mainExit] + exits)))
  }

  /// The first `1 + ⌊f·(n − 1)⌋` of `list` (all of it at f ≥ 1, the first at f ≤ 0).
  static func open<T>(_ list: [T], _ f: Double) -> ArraySlice<T> {
    guard list.count > 1 else { return list[...] }
    let k = Int((Double(list.count - 1) * min(1, max(0, f)) + 1e-9).rounded(.down))
    return list.prefix(k + 1)
  }

  /// The nearest valid configuration: a stage deep enough for the chosen exit to run, a
  /// branch that runs at full width only gets width 1, coupled blocks take the width of the
  /// first of their group, and blocks that do not run (cut off by an exit, or in a skipped
  /// unit) take the largest configuration's choice, so equal models have equal configurations.
  public func repair(_ config: SubnetConfig) -> SubnetConfig {
    var c = config
    if c.depths.count != stages.count { c.depths = stages.map(\.units.count) }
    if resolutions.isEmpty {
      c.resolution = nil
    } else if !resolutions.contains(c.resolution ?? -1) {
      c.resolution = resolutions.first
    }
    if c.exit != SubnetConfig.mainExit, let end = block(c.exit)?.end {
      for (s, stage) in stages.enumerated() {
        if let u = stage.units.firstIndex(where: { $0.nodes.contains(end) }) {
          c.depths[s] = max(c.depths[s], u + 1)
        }
      }
    }
    let running = Set(materializedBlocks(of: c))
    for i in c.blocks.indices where !running.contains(c.blocks[i].block) {
      c.blocks[i] = SupernetBlock.Choice(block: c.blocks[i].block)
    }
    for i in c.blocks.indices {
      let block = blocks[i]
      if !block.supportsWidth(branch: c.blocks[i].branch) { c.blocks[i].width = 1 }
    }
    for group in widthGroups where group.count > 1 {
      let lead = c[block: group[0]]!.width
      for name in group.dropFirst() {
        let i = c.blocks.firstIndex { $0.block == name }!
        c.blocks[i].width = lead
        if !blocks[i].supportsWidth(branch: c.blocks[i].branch) {
          c.blocks[i].branch = SubnetConfig.baseBranch
        }
      }
    }
    return c
  }

  /// Weights of `branch` for `block` (the source layer's for `base`).
  func branchWeightCount(_ block: String, _ branch: String) -> Int {
    let prefix =
      branch == SubnetConfig.baseBranch ? block + "/" : Self.branchKey(block, branch) + "#"
    return weights.tensors.filter { $0.key.hasPrefix(prefix) }.reduce(0) { $0 + $1.value.count }
  }
}

extension SupernetBlock {
  /// A block's entry in a `SubnetConfig`.
  public typealias Choice = SubnetConfig.Block
}

extension Supernet {
  /// Blocks that run when predicting from `exit` (all of them for `main`), every unit kept.
  public func materializedBlocks(exit: String) -> [String] {
    materializedBlocks(of: SubnetConfig(blocks: [], depths: stages.map(\.units.count), exit: exit))
  }

  /// Blocks that run in `config`: reached from its exit, skipped units left out.
  public func materializedBlocks(of config: SubnetConfig) -> [String] {
    let output =
      config.exit == SubnetConfig.mainExit ? source.graph.outputs : exitOutputs[config.exit].map { [$0] }
    let skipping = config.depths.count == stages.count ? skippingUnits(of: config, in: trunk) : trunk
    let reached = Set(skipping.keepingOnly(outputs: output ?? source.graph.outputs).nodes.map(\.name))
    return blocks.map(\.name).filter(reached.contains)
  }
}
