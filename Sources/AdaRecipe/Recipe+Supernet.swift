import AdaCompress
import AdaFormats
import AdaIO
import AdaTensor
import Foundation

extension Recipe {
  /// The search space (`supernet:`): which blocks vary, and for each the widths, alternative
  /// implementations (branches) and weight bits to choose from, plus where exits may go.
  /// Every choice here becomes a `SubnetConfig` field: `block=branch@width/bits`, `exit=`.
  public struct SupernetSpec: Codable, Hashable, Sendable {
    /// Which layers are blocks.
    public enum Blocks: Codable, Hashable, Sendable {
      /// Every Conv2D and Dense layer except the classifier (the last Dense).
      case auto
      /// The `auto` layers whose channels no other layer shares through an Add or Multiply:
      /// the hidden (expansion) layers of inverted-residual and bottleneck blocks, the stem and
      /// the head; the residual stream keeps its width.
      case hidden
      /// These layers (node names of Conv2D/Dense layers in the model), in this order.
      case named([String])
    }

    /// Where early-exit heads may be attached.
    public enum Exits: Codable, Hashable, Sendable {
      /// The supernet builder chooses where exits go.
      case auto
      /// No exits: every configuration predicts with the model's own output.
      case none
      /// After these blocks.
      case named([String])
    }

    public var blocks: Blocks = .auto
    /// Width ratios in (0, 1], distinct, sorted from 1.0 down.
    public var widths: [Double] = [1.0, 0.75, 0.5, 0.25]
    /// Canonical operator descriptions (`OperatorParser` round trip, e.g. `fire` becomes
    /// `fire:0.25`), in the order given. The source layer (`base`) is always a branch too.
    public var branches: [String] = ["low-rank:0.25", "depthwise-separable", "fire:0.5"]
    /// Weight bits, distinct, from {32, 8, 4}, sorted from 32 down.
    public var bits: [Int] = [32, 8, 4]
    public var exits: Exits = .auto
    /// Whether stages of residual units may skip their later units (elastic depth).
    public var elasticDepth = false
    /// Fewest residual units each stage keeps when depth is elastic.
    public var minDepth = 0
    /// Input resolutions offered (square images), distinct; empty: the model's own only.
    public var resolutions: [Int] = []
    public var training = SupernetTrainingSpec()

    public init() {}

    static let keys = [
      "blocks", "widths", "branches", "bits", "exits", "depth", "min-depth", "resolutions", "training",
    ]
    /// Operators that can replace one block by an alternative with the same output shape.
    public static let branchOperators = [LowRank.id, DepthwiseSeparable.id, Fire.id]
    /// Weight bits the quantiser supports (32 = float, unquantised).
    public static let supportedBits = [32, 8, 4]

    /// Why an operator that is not a branch operator is not one: where it belongs instead.
    static let notABranch: [String: String] = [
      PruneChannels.id: "channel pruning is what supernet.widths does (elastic width)",
      Quantize.id: "weight bits are chosen by supernet.bits",
      EarlyExit.id: "exits are chosen by supernet.exits",
      GAPHead.id: "it rewrites the classifier head, not a block",
      BatchNormFolding.id: "it does not change what a block computes, so it is no alternative for one",
    ]

    static func decode(_ v: YAMLValue, _ context: DecodingContext) throws(AdaError) -> SupernetSpec {
      try v.checkRecipeSection(keys)
      var s = SupernetSpec()
      if v["blocks"].exists { s.blocks = try decodeBlocks(v["blocks"]) }
      if v["widths"].exists { s.widths = try decodeWidths(v["widths"]) }
      if v["branches"].exists { s.branches = try decodeBranches(v["branches"]) }
      if v["bits"].exists { s.bits = try decodeBits(v["bits"]) }
      if v["exits"].exists { s.exits = try decodeExits(v["exits"], blocks: s.blocks) }
      if v["depth"].exists {
        guard v["depth"].isWord("fixed") || v["depth"].isWord("elastic") else {
          throw v["depth"].expected("fixed or elastic")
        }
        s.elasticDepth = v["depth"].isWord("elastic")
      }
      if v["resolutions"].exists {
        for item in try v["resolutions"].list({ x throws(AdaError) in x }) {
          let r = try item.int()
          guard r >= 1 else { throw item.error("a resolution must be ≥ 1, found \(r)") }
          guard !s.resolutions.contains(r) else { throw item.error("resolution \(r) is listed twice") }
          s.resolutions.append(r)
        }
      }
      if v["min-depth"].exists {
        s.minDepth = try v["min-depth"].int()
        guard s.minDepth >= 0 else { throw v["min-depth"].error("must be ≥ 0, found \(s.minDepth)") }
      }
      s.training = try SupernetTrainingSpec.decode(v["training"])
      return s
    }

    static func decodeBlocks(_ v: YAMLValue) throws(AdaError) -> Blocks {
      if v.isWord("auto") { return .auto }
      if v.isWord("hidden") { return .hidden }
      guard v.node?.sequence != nil else { throw v.expected("auto, hidden or a list of layer names") }
      let names = try v.distinctStrings()
      guard !names.isEmpty else { throw v.error("list at least one block, or use auto") }
      return .named(names)
    }

    static func decodeWidths(_ v: YAMLValue) throws(AdaError) -> [Double] {
      var widths: [Double] = []
      for item in try v.list({ x throws(AdaError) in x }) {
        let w = try item.number(in: "(0, 1]") { $0 > 0 && $0 <= 1 }
        guard !widths.contains(w) else { throw item.error("width \(format(w)) is listed twice") }
        widths.append(w)
      }
      guard widths.contains(1) else {
        throw v.error("widths must contain 1.0 (the full width, which the supernet trains as its largest)")
      }
      return widths.sorted(by: >)
    }

    static func decodeBranches(_ v: YAMLValue) throws(AdaError) -> [String] {
      var branches: [String] = []
      for item in try v.list({ x throws(AdaError) in x }) {
        let text = try item.nonEmptyString()
        let id = String(text.prefix { $0 != ":" }).trimmingCharacters(in: .whitespaces)
        if id == "base" {
          throw item.error("'base' (the source layer) is always a branch; list only the alternatives")
        }
        guard OperatorParser.ids.contains(id) else {
          throw item.error(
            "unknown operator '\(id)'\(Suggestion.didYouMean(id, among: OperatorParser.ids)); "
              + "branch operators: \(branchOperators.map { OperatorParser.syntax[$0] ?? $0 }.joined(separator: ", "))"
          )
        }
        guard branchOperators.contains(id) else {
          throw item.error(
            "'\(id)' is not a branch operator: \(notABranch[id] ?? "it does not replace a block"); "
              + "branch operators: \(branchOperators.joined(separator: ", "))")
        }
        let canonical = try item.locating { () throws(AdaError) in try OperatorParser.parse(text).description
        }
        guard !branches.contains(canonical) else {
          throw item.error("branch '\(canonical)' is listed twice")
        }
        branches.append(canonical)
      }
      return branches
    }

    static func decodeBits(_ v: YAMLValue) throws(AdaError) -> [Int] {
      var bits: [Int] = []
      for item in try v.list({ x throws(AdaError) in x }) {
        let b = try item.int()
        guard supportedBits.contains(b) else {
          throw item.error("weight bits must be one of 32, 8, 4, found \(b)")
        }
        guard !bits.contains(b) else { throw item.error("\(b) bits are listed twice") }
        bits.append(b)
      }
      guard bits.contains(32) else {
        throw v.error("bits must contain 32 (the unquantised weights the supernet trains)")
      }
      return bits.sorted(by: >)
    }

    static func decodeExits(_ v: YAMLValue, blocks: Blocks) throws(AdaError) -> Exits {
      if v.isWord("auto") { return .auto }
      if v.isWord("none") { return .none }
      guard v.node?.sequence != nil else { throw v.expected("auto, none, or a list of block names") }
      let names = try v.distinctStrings()
      for (item, name) in zip(try v.array(), names) {
        if name == "main" {
          throw item.error(
            "'main' (the model's own output) is always an exit; list blocks to add exits after")
        }
        if case .named(let blockNames) = blocks, !blockNames.contains(name) {
          throw item.error(
            "'\(name)' is not one of supernet.blocks\(Suggestion.didYouMean(name, among: blockNames)); "
              + "blocks: \(blockNames.joined(separator: ", "))")
        }
      }
      return names.isEmpty ? .none : .named(names)
    }
  }
}
