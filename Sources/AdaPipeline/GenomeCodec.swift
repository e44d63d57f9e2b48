import AdaCompress
import AdaNN
import AdaSearch

/// The search genome of a supernet (design.md §6): per block a branch gene, a width gene and a
/// bits gene, each present only when the block offers more than one choice; a depth gene per
/// elastic-depth stage; a resolution gene when the resolution is elastic; and one exit gene.
/// A block coupled to an earlier one (a residual stage) has no width gene of its own: it takes
/// its group leader's. Decoding always yields a valid configuration (`Supernet.repair`), so
/// invalid combinations are excluded by construction.
///
///     genes: conv1.width, conv1.bits, conv2.branch, conv2.width, conv2.bits, fc1.branch, …,
///            block_2_add.depth, …, resolution, exit
public struct GenomeCodec: Sendable {
  /// What one gene sets.
  enum Slot: Sendable, Hashable {
    case branch(block: Int)
    case width(block: Int)
    case bits(block: Int)
    case depth(stage: Int)
    case resolution
    case exit
  }

  public let supernet: Supernet
  public let space: SearchSpace
  let slots: [Slot]

  public init(supernet: Supernet) {
    self.supernet = supernet
    let leaders = Set(supernet.widthGroups.map { $0[0] })
    var genes: [SearchSpace.Gene] = []
    var slots: [Slot] = []
    for (i, block) in supernet.blocks.enumerated() {
      if block.branches.count > 1 {
        genes.append(SearchSpace.Gene(name: "\(block.name).branch", choices: block.branches))
        slots.append(.branch(block: i))
      }
      if block.widths.count > 1, leaders.contains(block.name) {
        genes.append(SearchSpace.Gene(name: "\(block.name).width", choices: block.widths.map { "\($0)" }))
        slots.append(.width(block: i))
      }
      if block.bits.count > 1 {
        genes.append(SearchSpace.Gene(name: "\(block.name).bits", choices: block.bits.map { "\($0)" }))
        slots.append(.bits(block: i))
      }
    }
    for (i, stage) in supernet.stages.enumerated() where supernet.depthChoices(stage).count > 1 {
      genes.append(
        SearchSpace.Gene(name: "\(stage.name).depth", choices: supernet.depthChoices(stage).map(String.init)))
      slots.append(.depth(stage: i))
    }
    if supernet.resolutions.count > 1 {
      genes.append(SearchSpace.Gene(name: "resolution", choices: supernet.resolutions.map(String.init)))
      slots.append(.resolution)
    }
    if !supernet.exits.isEmpty {
      genes.append(SearchSpace.Gene(name: "exit", choices: [SubnetConfig.mainExit] + supernet.exits))
      slots.append(.exit)
    }
    space = SearchSpace(genes: genes)
    self.slots = slots
  }

  /// The configuration a genome stands for (repaired).
  public func decode(_ genome: Genome) -> SubnetConfig {
    var config = supernet.largest
    let index = Dictionary(uniqueKeysWithValues: supernet.blocks.enumerated().map { ($1.name, $0) })
    for (slot, v) in zip(slots, genome.values) {
      switch slot {
      case .branch(let i): config.blocks[i].branch = supernet.blocks[i].branches[v]
      case .width(let i):
        let group =
          supernet.widthGroups.first { $0[0] == supernet.blocks[i].name } ?? [supernet.blocks[i].name]
        for name in group { config.blocks[index[name]!].width = supernet.blocks[i].widths[v] }
      case .bits(let i): config.blocks[i].bits = supernet.blocks[i].bits[v]
      case .depth(let i): config.depths[i] = supernet.depthChoices(supernet.stages[i])[v]
      case .resolution: config.resolution = supernet.resolutions[v]
      case .exit: config.exit = v == 0 ? SubnetConfig.mainExit : supernet.exits[v - 1]
      }
    }
    return supernet.repair(config)
  }

  /// The genome of a configuration (settings the space does not offer map to the first choice).
  public func encode(_ config: SubnetConfig) -> Genome {
    Genome(
      slots.map { slot in
        switch slot {
        case .branch(let i): supernet.blocks[i].branches.firstIndex(of: config.blocks[i].branch) ?? 0
        case .width(let i): supernet.blocks[i].widths.firstIndex(of: config.blocks[i].width) ?? 0
        case .bits(let i): supernet.blocks[i].bits.firstIndex(of: config.blocks[i].bits) ?? 0
        case .depth(let i):
          config.depths.indices.contains(i)
            ? supernet.depthChoices(supernet.stages[i]).firstIndex(of: config.depths[i]) ?? 0 : 0
        case .resolution: config.resolution.flatMap { supernet.resolutions.firstIndex(of: $0) } ?? 0
        case .exit:
          config.exit == SubnetConfig.mainExit ? 0 : (supernet.exits.firstIndex(of: config.exit) ?? -1) + 1
        }
      })
  }

  /// The genome of the configuration this genome decodes to: the repair the search applies.
  public func repair(_ genome: Genome) -> Genome { encode(decode(genome)) }
}
