import AdaNN
import AdaTensor

/// One block of a supernet: a Conv2D or Dense layer (its *main* node) with the per-channel
/// layers that follow it (batch-norm, activation, pooling, dropout), and the choices the
/// supernet offers for it.
public struct SupernetBlock: Codable, Hashable, Sendable {
  /// The main node's name in the source model; also the block's name.
  public var name: String
  /// `conv2d` or `dense`.
  public var kind: String
  /// The block's last node (where an exit head attaches).
  public var end: String
  /// Output channels of the main node.
  public var channels: Int
  /// Width ratios offered, descending, starting at 1 (just `[1]` when the channels cannot be
  /// removed, e.g. they reach a model output).
  public var widths: [Double]
  /// `base` first, then every branch operator that can rewrite this block.
  public var branches: [String]
  /// Weight bits offered, descending, starting at 32.
  public var bits: [Int]
  /// Output channels ranked by importance, most important first: width `w` keeps
  /// `channelOrder.prefix(keptChannels(w))`.
  public var channelOrder: [Int]

  /// `⌈w·C⌉` (ignoring floating-point noise above an integer), at least 1.
  public func keptChannels(_ width: Double) -> Int {
    max(1, Int((width * Double(channels) - 1e-9).rounded(.up)))
  }

  /// Branches that keep the block's output channels elastic. A `fire` module's output is a
  /// concatenation, so it runs at full width.
  public func supportsWidth(branch: String) -> Bool { !branch.hasPrefix(Fire.id) }
}

extension SupernetBlock {
  /// Per-channel layers that may follow a main node inside its block.
  static func isPerChannel(_ spec: LayerSpec) -> Bool {
    switch spec {
    case .batchNorm, .activation, .relu, .pool2D, .dropout: true
    default: false
    }
  }

  /// The blocks of `model`: the named ones, or every Conv2D/Dense whose channels may be pruned.
  static func find(
    in model: Model, coupling: ChannelCoupling, options: SupernetOptions
  ) throws(AdaError) -> [SupernetBlock] {
    let graph = model.graph
    var names: [String]
    if let named = options.blocks {
      names = []
      for (i, name) in named.enumerated() {
        guard let node = graph.node(named: name) else {
          throw AdaError(
            .invalidValue, path: "supernet.blocks[\(i)]", "no layer named '\(name)' in model '\(graph.name)'")
        }
        switch node.spec {
        case .conv2D, .dense: break
        default:
          throw AdaError(
            .invalidValue, path: "supernet.blocks[\(i)]",
            "'\(name)' is a \(node.spec.kindName) layer; blocks are conv2d or dense layers")
        }
        names.append(name)
      }
      names = graph.nodes.map(\.name).filter(names.contains)  // graph order
    } else {
      names = coupling.producers.filter { !coupling.prunableClasses(of: $0).isEmpty }
    }
    guard !names.isEmpty else {
      throw AdaError(
        .invalidValue, path: "supernet.blocks",
        "model '\(graph.name)' has no Conv2D or Dense layer whose channels can be removed")
    }
    let readers = graph.consumers
    var blocks: [SupernetBlock] = []
    for name in names {
      let node = graph.node(named: name)!
      var branches = [SubnetConfig.baseBranch]
      for b in options.branches where try OperatorParser.parse(b).isEligible(node, in: model) {
        branches.append(b)
      }
      var end = name
      while let next = readers[end], next.count == 1, !graph.outputs.contains(end),
        let n = graph.node(named: next[0]), n.inputs.count == 1, isPerChannel(n.spec)
      {
        end = n.name
      }
      let elastic = !coupling.prunableClasses(of: name).isEmpty
      blocks.append(
        SupernetBlock(
          name: name, kind: node.spec.kindName, end: end, channels: coupling.width[name]!,
          widths: elastic ? options.widths.sorted(by: >) : [1], branches: branches,
          bits: options.bits.sorted(by: >), channelOrder: Array(0..<coupling.width[name]!)))
    }
    return blocks
  }

  /// Blocks whose channels are coupled (a residual stage), from the coupling's components.
  static func widthGroups(_ blocks: [SupernetBlock], coupling: ChannelCoupling) -> [[String]] {
    let names = Set(blocks.map(\.name))
    var groups: [[String]] = []
    var seen = Set<String>()
    for component in coupling.components() {
      let members = component.filter(names.contains)
      guard !members.isEmpty else { continue }
      groups.append(members)
      seen.formUnion(members)
    }
    for b in blocks where !seen.contains(b.name) { groups.append([b.name]) }
    let position = Dictionary(uniqueKeysWithValues: blocks.enumerated().map { ($1.name, $0) })
    return groups.sorted { position[$0[0]]! < position[$1[0]]! }
  }

  /// Ranks each group's channels by the summed L1 norm of its members' kernels (most important
  /// first). A group whose members differ in width is not elastic.
  static func rankChannels(
    _ blocks: [SupernetBlock], groups: [[String]], coupling: ChannelCoupling, parameters: Parameters
  ) -> [SupernetBlock] {
    var result = blocks
    let index = Dictionary(uniqueKeysWithValues: blocks.enumerated().map { ($1.name, $0) })
    for group in groups {
      let widths = Set(group.map { blocks[index[$0]!].channels })
      guard widths.count == 1, let c = widths.first else {
        for name in group { result[index[name]!].widths = [1] }
        continue
      }
      var score = [Double](repeating: 0, count: c)
      for name in group {
        let l1 = PruneChannels().channelImportance(of: name, coupling, parameters)
        for i in 0..<c { score[i] += l1[i] }
      }
      let order = (0..<c).sorted { (score[$0], -$0) > (score[$1], -$1) }
      for name in group { result[index[name]!].channelOrder = order }
    }
    return result
  }

  /// Blocks that get exit heads: the named ones, or (auto) every convolutional block but the
  /// last, since an exit there would duplicate the model's own head.
  static func exitBlocks(
    _ blocks: [SupernetBlock], in model: Model, options: SupernetOptions
  ) throws(AdaError) -> [String] {
    guard let named = options.exits else {
      let convs = blocks.filter { $0.kind == "conv2d" }
      return convs.dropLast().map(\.name)
    }
    for (i, name) in named.enumerated() where !blocks.contains(where: { $0.name == name }) {
      throw AdaError(
        .invalidValue, path: "supernet.exits[\(i)]",
        "'\(name)' is not a block (blocks: \(blocks.map(\.name).joined(separator: ", ")))")
    }
    return blocks.map(\.name).filter(named.contains)
  }
}
