/// One configuration of a supernet: for every block, which implementation (branch) runs, how
/// many of its output channels it keeps, and how many bits its weights have; how many residual
/// units each elastic-depth stage keeps; and which exit the prediction is taken from. It is
/// what a search genome decodes to, what a bundle's manifest records per variant, and what
/// `Supernet.materialize` turns into a standalone model.
///
///     conv1=base@1/32 conv2=low-rank:0.25@0.5/8 fc1=base@0.75/32 exit=main
///     block_1_expand=base@0.5/32 … depth=1,0,2 exit=main        (a supernet with elastic depth)
public struct SubnetConfig: Codable, Hashable, Sendable, CustomStringConvertible {
  /// The choice made for one block.
  public struct Block: Codable, Hashable, Sendable {
    /// The block's name: the node name of its main (Conv2D or Dense) layer in the source model.
    public var block: String
    /// `base` (the source layer) or an operator description such as `low-rank:0.25`,
    /// `depthwise-separable`, `fire:0.5`.
    public var branch: String
    /// Fraction of the block's output channels kept, in (0, 1].
    public var width: Double
    /// Weight bits: 32 (float), 8 or 4 (per-output-channel symmetric quantisation).
    public var bits: Int

    public init(block: String, branch: String = SubnetConfig.baseBranch, width: Double = 1, bits: Int = 32) {
      self.block = block
      self.branch = branch
      self.width = width
      self.bits = bits
    }

    /// `block=branch@width/bits`.
    public var description: String { "\(block)=\(branch)@\(formatWidth(width))/\(bits)" }
  }

  /// Name of the branch that is the source layer itself.
  public static let baseBranch = "base"
  /// Name of the model's own output, as an exit.
  public static let mainExit = "main"

  public var blocks: [Block]
  /// Residual units kept by each elastic-depth stage (`Supernet.stages`), in stage order; empty
  /// when the supernet has no elastic depth.
  public var depths: [Int]
  /// Input resolution (height = width) when the supernet's resolution is elastic, nil for the
  /// source's own.
  public var resolution: Int?
  /// `main` (the model's output) or the name of the block after which an exit head predicts.
  public var exit: String

  public init(
    blocks: [Block], depths: [Int] = [], resolution: Int? = nil, exit: String = SubnetConfig.mainExit
  ) {
    self.blocks = blocks
    self.depths = depths
    self.resolution = resolution
    self.exit = exit
  }

  enum CodingKeys: String, CodingKey { case blocks, depths, resolution, exit }

  /// Also reads configurations written before elastic depth existed (no `depths`).
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    blocks = try c.decode([Block].self, forKey: .blocks)
    depths = try c.decodeIfPresent([Int].self, forKey: .depths) ?? []
    resolution = try c.decodeIfPresent(Int.self, forKey: .resolution)
    exit = try c.decode(String.self, forKey: .exit)
  }

  /// Canonical, stable text form: the blocks in order, the depths and resolution (when
  /// elastic), then the exit. Used as a key in manifests, lookup tables and search caches.
  public var description: String {
    let depth = depths.isEmpty ? [] : ["depth=" + depths.map(String.init).joined(separator: ",")]
    let res = resolution.map { ["res=\($0)"] } ?? []
    return (blocks.map(\.description) + depth + res + ["exit=\(exit)"]).joined(separator: " ")
  }

  /// The choice for `block`, if it is one of the blocks.
  public subscript(block name: String) -> Block? { blocks.first { $0.block == name } }
}

/// `1`, `0.5`, `0.25`: no trailing zeros, so keys stay short and stable.
package func formatWidth(_ w: Double) -> String {
  w == w.rounded() ? String(Int(w)) : String(w)
}
