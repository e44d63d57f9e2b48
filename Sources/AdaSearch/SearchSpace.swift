import AdaTensor

/// The space a search explores: a fixed list of genes, each a choice among labelled options.
/// A genome picks one option per gene by index. The search knows nothing about what the options
/// mean; the labels only make reports readable.
///
///     let space = SearchSpace(genes: [
///       .init(name: "block1.branch", choices: ["original", "low-rank-0.5", "depthwise-separable"]),
///       .init(name: "block1.width", choices: ["1.0", "0.75", "0.5"]),
///       .init(name: "exit", choices: ["none", "block2"]),
///     ])
///     space.describe(Genome([2, 0, 1]))  // "block1.branch=depthwise-separable block1.width=1.0 exit=block2"
public struct SearchSpace: Codable, Hashable, Sendable {
  public struct Gene: Codable, Hashable, Sendable {
    public var name: String
    /// Labels of the options; a genome stores the index into this list.
    public var choices: [String]

    public init(name: String, choices: [String]) {
      self.name = name
      self.choices = choices
    }
  }

  public var genes: [Gene]

  public init(genes: [Gene]) { self.genes = genes }

  /// Number of options per gene.
  public var cardinalities: [Int] { genes.map(\.choices.count) }

  /// Number of distinct genomes (before repair), as a Double: it overflows Int for long genomes.
  public var size: Double { genes.reduce(1.0) { $0 * Double($1.choices.count) } }

  /// Throws unless the space has at least one gene and every gene at least one choice.
  public func validate() throws(AdaError) {
    guard !genes.isEmpty else {
      throw AdaError(.invalidValue, path: "space", "the search space has no genes")
    }
    for (i, gene) in genes.enumerated() where gene.choices.isEmpty {
      throw AdaError(
        .invalidValue, path: "space.genes[\(i)]", "gene '\(gene.name)' has no choices (expected at least 1)")
    }
  }

  /// Whether the genome has one in-range value per gene.
  public func contains(_ genome: Genome) -> Bool {
    genome.values.count == genes.count
      && zip(genome.values, genes).allSatisfy { v, g in v >= 0 && v < g.choices.count }
  }

  /// Throws, naming the first offending gene, unless `contains(genome)`. `what` says where the
  /// genome came from ("seed genome 2", "repair of [0, 3]").
  public func check(_ genome: Genome, what: String) throws(AdaError) {
    guard genome.values.count == genes.count else {
      throw AdaError(
        .invalidValue, path: what,
        "genome \(genome) has \(genome.values.count) values, expected \(genes.count) (one per gene)")
    }
    for (i, (v, g)) in zip(genome.values, genes).enumerated() where v < 0 || v >= g.choices.count {
      throw AdaError(
        .invalidValue, path: what,
        "genome \(genome): gene \(i) '\(g.name)' is \(v), expected 0..<\(g.choices.count)")
    }
  }

  /// A uniformly random genome (each gene independently uniform), before repair.
  public func randomGenome(using rng: inout SeededGenerator) -> Genome {
    Genome(genes.map { rng.nextIndex(below: $0.choices.count) })
  }

  /// `name=label` per gene, space-separated.
  public func describe(_ genome: Genome) -> String {
    zip(genes, genome.values).map { g, v in
      "\(g.name)=\(v >= 0 && v < g.choices.count ? g.choices[v] : "?\(v)")"
    }.joined(separator: " ")
  }
}

/// One point of a `SearchSpace`: `values[i]` is an index into `space.genes[i].choices`.
/// Ordered lexicographically; the string form is `[2, 0, 1]`.
public struct Genome: Codable, Hashable, Sendable, Comparable, CustomStringConvertible {
  public var values: [Int]

  public init(_ values: [Int]) { self.values = values }
  public init(values: [Int]) { self.values = values }

  public static func < (a: Genome, b: Genome) -> Bool { a.values.lexicographicallyPrecedes(b.values) }

  public var description: String { "[" + values.map(String.init).joined(separator: ", ") + "]" }

  public init(from decoder: any Decoder) throws {
    values = try decoder.singleValueContainer().decode([Int].self)
  }

  /// Encoded as the bare array of values.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(values)
  }
}
