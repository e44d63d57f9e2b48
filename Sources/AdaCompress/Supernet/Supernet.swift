import AdaNN
import AdaTensor

/// AdaScale's multi-branch network (design.md §5): one set of weights holding every compressed
/// configuration of a source model.
///
/// - The backbone is cut into **blocks**, one per Conv2D/Dense layer that is not the classifier
///   (`SupernetBlock`).
/// - **Elastic width**: each block's output channels are ranked once by importance (L1 norm of
///   the source kernel); width `w` keeps the first `⌈w·C⌉` of that ranking and consumers read the
///   matching inputs. Every width shares the one weight tensor.
/// - **Operator branches**: alternatives for a block built by the compression operators
///   (`low-rank`, `depthwise-separable`, `fire`), with their own weights initialised from the
///   source layer. Each maps the block's input to the same output shape, so any mix composes.
/// - **Bits**: a block's kernels may be quantised (8 or 4 bits, straight-through in training).
/// - **Exits**: `early-exit` heads (global average pooling + Dense) after chosen blocks.
/// - **Elastic depth** (once-for-all): a stage of residual units (`ResidualStage`) keeps its
///   first `d` units; the others are skipped (their shortcut carries the input through).
/// - **Hidden widths** (`hiddenOnly`): only blocks whose channels no other block shares get
///   widths — the expansion layers of inverted-residual blocks (elastic expansion ratio) and the
///   inner layers of bottlenecks — while the residual stream keeps its width.
///
/// The shared weights live in one `Parameters` store (`weights`): the source model's weights
/// under their own keys, exit heads under their node names, and branch weights under
/// `<block>@<branch>#<node>/<weight>`. `materialize(_:)` turns any `SubnetConfig` into a
/// standalone model plus the index map that sends its gradients back into the store.
///
///     let net = try Supernet(source: model, options: SupernetOptions(branches: ["low-rank:0.25"]))
///     let sub = try net.materialize(net.smallest)
///     let small = try sub.model(from: net.weights).model   // a plain Model: run, train, save as Keras
public struct Supernet: Sendable {
  /// The model the supernet was built from (the teacher), unchanged.
  public let source: Model
  public let options: SupernetOptions
  /// Blocks in graph order.
  public let blocks: [SupernetBlock]
  /// Blocks whose widths must be equal (their channels are coupled by Add/Multiply), each in
  /// graph order; a block alone is a group of one.
  public let widthGroups: [[String]]
  /// Blocks with an exit head, in graph order.
  public let exits: [String]
  /// Stages with elastic depth (empty unless `options.elasticDepth`), in graph order.
  public let stages: [ResidualStage]
  /// Input resolutions offered, the source's first, then descending; `[]` when fixed.
  public let resolutions: [Int]
  /// The source graph plus every exit head as an extra output.
  let trunk: Graph
  /// Output node of each exit head, by block name.
  let exitOutputs: [String: String]
  /// Replacement nodes of each branch, by `branchKey(block, branch)`; the last node keeps the
  /// block's name (the operators' convention), inputs as in the trunk.
  let branchNodes: [String: [Node]]
  /// The shared weights.
  public var weights: Parameters

  /// Builds the supernet: finds the blocks, ranks channels, adds exit heads and builds every
  /// branch from the source weights.
  ///
  /// - Throws: `AdaError` naming `supernet.blocks`, `supernet.exits` or `supernet.branches` when
  ///   a named block does not exist or cannot take a setting.
  public init(source given: Model, options: SupernetOptions) throws(AdaError) {
    try options.validate()
    try given.validate()
    // Elastic resolution needs convolutions that pad what they are given: hand paddings that
    // equal `same` at the source's size are folded (identical outputs there).
    let source = options.resolutions.isEmpty ? given : try SamePaddingFolding.apply(to: given)
    self.source = source
    self.options = options
    let coupling = try ChannelCoupling(graph: source.graph)
    var found = try SupernetBlock.find(in: source, coupling: coupling, options: options)
    var groups = SupernetBlock.widthGroups(found, coupling: coupling)
    if options.hiddenOnly && options.blocks == nil {
      let alone = Set(groups.filter { $0.count == 1 }.map { $0[0] })
      found = found.filter { alone.contains($0.name) }
      groups = groups.filter { $0.count == 1 && alone.contains($0[0]) }
      guard !found.isEmpty else {
        throw AdaError(
          .invalidValue, path: "supernet.blocks",
          "model '\(source.graph.name)' has no block whose channels are its own (blocks: hidden)",
          hint: "use blocks: auto")
      }
    }
    let blocks = SupernetBlock.rankChannels(
      found, groups: groups, coupling: coupling, parameters: source.parameters)
    self.blocks = blocks
    widthGroups = groups

    // Exit heads: one EarlyExit rewrite adds them all as extra outputs.
    let exitBlocks = try SupernetBlock.exitBlocks(blocks, in: source, options: options)
    var trunkModel = source
    var exitOutputs: [String: String] = [:]
    if !exitBlocks.isEmpty {
      let ends = exitBlocks.map { b in blocks.first { $0.name == b }!.end }
      let result = try EarlyExit(after: ends, seed: options.seed).apply(to: source, selecting: .all)
      trunkModel = result.model
      let added = Array(trunkModel.graph.outputs.dropFirst(source.graph.outputs.count))
      for (block, output) in zip(exitBlocks, added) { exitOutputs[block] = output }
    }
    exits = exitBlocks
    stages = options.elasticDepth ? try ResidualStage.find(in: source.graph) : []
    resolutions = try Self.checkResolutions(options.resolutions, of: source)
    trunk = trunkModel.graph
    self.exitOutputs = exitOutputs
    var weights = trunkModel.parameters

    // Branches: each operator rewrites its block of the source; the new nodes' weights go to
    // the store under the branch's namespace.
    var branchNodes: [String: [Node]] = [:]
    for block in blocks {
      for branch in block.branches where branch != SubnetConfig.baseBranch {
        let op = try OperatorParser.parse(branch)
        let rewritten = try op.apply(to: source, selecting: .named([block.name])).model
        let old = Set(source.graph.nodes.map(\.name)).subtracting([block.name])
        let nodes = rewritten.graph.nodes.filter { !old.contains($0.name) }
        let key = Self.branchKey(block.name, branch)
        branchNodes[key] = nodes
        for node in nodes {
          let prefix = node.name + "/"
          for k in rewritten.parameters.keys where k.hasPrefix(prefix) {
            weights.tensors[key + "#" + k] = rewritten.parameters.tensors[k]
          }
        }
      }
    }
    self.branchNodes = branchNodes
    self.weights = weights
    if let (key, t) = weights.tensors.first(where: { $0.value.count >= Self.maximumWeightCount }) {
      throw AdaError(
        .unsupported, path: "supernet.blocks",
        "weight \(key) has \(t.count) elements; the supernet indexes weights of fewer than \(Self.maximumWeightCount)",
        hint: "name smaller layers in supernet.blocks, or compress the large layer with adascale apply first")
    }
  }

  /// Largest weight (elements) a supernet can hold: materialisation indexes weights with
  /// Float32 index images, exact below 2²⁴.
  public static let maximumWeightCount = 1 << 24

  /// `<block>@<branch>`: the namespace of a branch's nodes and weights.
  static func branchKey(_ block: String, _ branch: String) -> String { "\(block)@\(branch)" }

  /// The block named `name`.
  public func block(_ name: String) -> SupernetBlock? { blocks.first { $0.name == name } }

  /// Every trainable key of the store (not batch-norm moving statistics).
  public var trainableKeys: [String] {
    weights.keys.filter { !$0.hasSuffix("/movingMean") && !$0.hasSuffix("/movingVariance") }
  }
}

/// What a supernet is built with (the recipe's `supernet` section).
public struct SupernetOptions: Codable, Hashable, Sendable {
  /// Main layers of the blocks; nil: every Conv2D/Dense whose channels may be pruned.
  public var blocks: [String]?
  /// Width ratios offered to every elastic block; must contain 1.
  public var widths: [Double]
  /// Branch operators offered to every block they can rewrite, e.g. `low-rank:0.25`.
  public var branches: [String]
  /// Weight bits offered to every block; must contain 32.
  public var bits: [Int]
  /// Blocks that get an exit head; nil: every convolutional block but the last.
  public var exits: [String]?
  /// Seed of the exit heads' initial weights.
  public var seed: UInt64
  /// With `blocks` nil: only blocks whose channels are coupled to no other block's (the hidden
  /// width inside inverted-residual and bottleneck blocks); the residual stream stays whole.
  public var hiddenOnly: Bool
  /// Whether stages of residual units may skip their later units (`ResidualStage`).
  public var elasticDepth: Bool
  /// Fewest residual units a stage keeps when depth is elastic.
  public var minDepth: Int
  /// Input resolutions offered (height = width), descending, the source's first; empty: the
  /// source's only. The model must run unchanged at each (no Flatten before a Dense).
  public var resolutions: [Int]

  public init(
    blocks: [String]? = nil, widths: [Double] = [1, 0.75, 0.5, 0.25], branches: [String] = [],
    bits: [Int] = [32], exits: [String]? = [], seed: UInt64 = 0, hiddenOnly: Bool = false,
    elasticDepth: Bool = false, minDepth: Int = 0, resolutions: [Int] = []
  ) {
    self.blocks = blocks
    self.widths = widths
    self.branches = branches
    self.bits = bits
    self.exits = exits
    self.seed = seed
    self.hiddenOnly = hiddenOnly
    self.elasticDepth = elasticDepth
    self.minDepth = minDepth
    self.resolutions = resolutions
  }

  public func validate() throws(AdaError) {
    guard resolutions.allSatisfy({ $0 >= 1 }), Set(resolutions).count == resolutions.count else {
      throw AdaError(
        .invalidValue, path: "supernet.resolutions",
        "resolutions must be positive and distinct, found \(resolutions)")
    }
    guard minDepth >= 0 else {
      throw AdaError(.invalidValue, path: "supernet.min-depth", "must be ≥ 0, found \(minDepth)")
    }
    guard widths.contains(1), widths.allSatisfy({ $0 > 0 && $0 <= 1 }), Set(widths).count == widths.count
    else {
      throw AdaError(
        .invalidValue, path: "supernet.widths",
        "widths must lie in (0, 1], include 1 and not repeat, found \(widths)")
    }
    guard bits.contains(32), bits.allSatisfy({ [32, 8, 4].contains($0) }), Set(bits).count == bits.count
    else {
      throw AdaError(
        .invalidValue, path: "supernet.bits",
        "bits must be among 32, 8, 4, include 32 and not repeat, found \(bits)")
    }
    for (i, b) in branches.enumerated() {
      let op: any CompressionOperator
      do { op = try OperatorParser.parse(b) } catch { throw error.at("supernet.branches[\(i)]") }
      guard [LowRank.id, DepthwiseSeparable.id, Fire.id].contains(type(of: op).id) else {
        throw AdaError(
          .invalidValue, path: "supernet.branches[\(i)]",
          "'\(b)' is not a branch operator (branches: low-rank, depthwise-separable, fire)")
      }
    }
  }
}
