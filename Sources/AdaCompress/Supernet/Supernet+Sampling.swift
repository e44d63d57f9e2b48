import AdaNN
import AdaTensor
import AdaTrain

extension Supernet {
  /// The source model itself: every block at `base`, full width, float weights, no exit.
  public var largest: SubnetConfig {
    SubnetConfig(blocks: blocks.map { SupernetBlock.Choice(block: $0.name) })
  }

  /// The cheapest configuration: every block at its smallest width and fewest bits, on the
  /// branch with the fewest weights (at full width for branches that need it), no exit.
  public var smallest: SubnetConfig {
    let choices = blocks.map { block in
      let branch = block.branches.min {
        branchWeightCount(block.name, $0) < branchWeightCount(block.name, $1)
      }!
      return SupernetBlock.Choice(
        block: block.name, branch: branch, width: block.widths.last!, bits: block.bits.last!)
    }
    return repair(SubnetConfig(blocks: choices))
  }

  /// A configuration drawn uniformly per block (branch, width, bits) and over the exits
  /// (`main` included), then repaired.
  public func random(using g: inout SeededGenerator) -> SubnetConfig {
    let choices = blocks.map { block in
      SupernetBlock.Choice(
        block: block.name, branch: block.branches[g.nextIndex(below: block.branches.count)],
        width: block.widths[g.nextIndex(below: block.widths.count)],
        bits: block.bits[g.nextIndex(below: block.bits.count)])
    }
    let exitChoices = [SubnetConfig.mainExit] + exits
    return repair(SubnetConfig(blocks: choices, exit: exitChoices[g.nextIndex(below: exitChoices.count)]))
  }

  /// The nearest valid configuration: a branch that runs at full width only gets width 1,
  /// coupled blocks take the width of the first of their group, and blocks an exit cuts off
  /// (they do not run) take the largest configuration's choice, so equal models have equal
  /// configurations.
  public func repair(_ config: SubnetConfig) -> SubnetConfig {
    var c = config
    if c.exit != SubnetConfig.mainExit {
      let kept = Set(materializedBlocks(exit: c.exit))
      for i in c.blocks.indices where !kept.contains(c.blocks[i].block) {
        c.blocks[i] = SupernetBlock.Choice(block: c.blocks[i].block)
      }
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
  /// Blocks that run when predicting from `exit` (all of them for `main`).
  public func materializedBlocks(exit: String) -> [String] {
    guard exit != SubnetConfig.mainExit, let output = exitOutputs[exit] else { return blocks.map(\.name) }
    let reached = Set(trunk.keepingOnly(outputs: [output]).nodes.map(\.name))
    return blocks.map(\.name).filter(reached.contains)
  }
}
