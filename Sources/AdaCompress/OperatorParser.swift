import AdaNN
import AdaTensor
import Foundation

/// Turns operator strings from the command line and recipes into operator values. The string
/// form is the operator's `description` (parsing a description gives the operator back):
///
/// | syntax | operator | default |
/// |---|---|---|
/// | `low-rank[:RATIO\|rRANK][:any-size]` | `LowRank(rank: .ratio(RATIO) / .absolute(RANK))` | 0.25 |
/// | `prune-channels[:RATIO][:l1\|bn-gamma]` | `PruneChannels(ratio:importance:)` | 0.5, l1 |
/// | `depthwise-separable[:MULT]` | `DepthwiseSeparable(multiplier:)` | 1 |
/// | `fold-batch-norm` | `BatchNormFolding()` | |
/// | `fire[:RATIO]` | `Fire(squeezeRatio:)` | 0.25 |
/// | `gap-head[:hidden]` | `GAPHead(keepHidden:)` | |
/// | `quantize[:8\|4]` | `Quantize(bits:)` | 8 |
/// | `early-exit:BLOCK[,BLOCK…][:HIDDEN]` | `EarlyExit(after:hidden:)` | (a block is required) |
///
///     let op = try OperatorParser.parse("low-rank:0.25")   // LowRank(rank: .ratio(0.25))
///
/// Errors are `AdaError(.invalidValue)` quoting the string, saying what was expected, and (for
/// an unknown id) listing the valid ids.
public enum OperatorParser {
  /// Every operator id, in the order of the table above.
  public static let ids = [
    LowRank.id, PruneChannels.id, DepthwiseSeparable.id, BatchNormFolding.id, Fire.id, GAPHead.id,
    Quantize.id,
    EarlyExit.id,
  ]

  /// The syntax of each id, for help texts and errors.
  public static let syntax: [String: String] = [
    LowRank.id: "low-rank[:RATIO|rRANK][:any-size]",
    PruneChannels.id: "prune-channels[:RATIO][:l1|bn-gamma]",
    DepthwiseSeparable.id: "depthwise-separable[:MULT]",
    BatchNormFolding.id: "fold-batch-norm",
    Fire.id: "fire[:RATIO]",
    GAPHead.id: "gap-head[:hidden]",
    Quantize.id: "quantize[:8|4]",
    EarlyExit.id: "early-exit:BLOCK[,BLOCK...][:HIDDEN]",
  ]

  /// Parses one operator string.
  public static func parse(_ text: String) throws(AdaError) -> any CompressionOperator {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    let id = parts[0].trimmingCharacters(in: .whitespaces)
    let args = Array(parts.dropFirst())
    func fail(_ message: String) -> AdaError {
      AdaError(.invalidValue, "operator '\(text)': \(message) (syntax: \(syntax[id] ?? id))")
    }
    func arguments(atMost n: Int) throws(AdaError) {
      guard args.count <= n else {
        throw fail(n == 0 ? "takes no arguments" : "takes at most \(n) argument\(n == 1 ? "" : "s")")
      }
    }
    func ratio(_ s: String, _ what: String, in valid: (Double) -> Bool, _ range: String) throws(AdaError)
      -> Double
    {
      guard let x = Double(s), x.isFinite, valid(x) else {
        throw fail("\(what) must be a number in \(range), found '\(s)'")
      }
      return x
    }
    switch id {
    case LowRank.id:
      try arguments(atMost: 2)
      var rank = LowRank.Rank.ratio(0.25)
      if let r = args.first, !r.isEmpty {
        if r.hasPrefix("r") {
          guard let k = Int(r.dropFirst()), k >= 1 else {
            throw fail("rank must be r<k> with k ≥ 1, found '\(r)'")
          }
          rank = .absolute(k)
        } else {
          rank = .ratio(try ratio(r, "the rank ratio", in: { $0 > 0 && $0 <= 1 }, "(0, 1]"))
        }
      }
      if args.count == 2 && args[1] != "any-size" { throw fail("expected 'any-size', found '\(args[1])'") }
      return LowRank(rank: rank, requireReduction: args.count < 2)
    case PruneChannels.id:
      try arguments(atMost: 2)
      let r = try args.first.map { (s) throws(AdaError) in
        try ratio(s, "the pruning ratio", in: { $0 >= 0 && $0 < 1 }, "[0, 1)")
      }
      var importance = PruneChannels.Importance.l1
      if args.count == 2 {
        guard let i = PruneChannels.Importance(rawValue: args[1]) else {
          throw fail("importance must be l1 or bn-gamma, found '\(args[1])'")
        }
        importance = i
      }
      return PruneChannels(ratio: r ?? 0.5, importance: importance)
    case DepthwiseSeparable.id:
      try arguments(atMost: 1)
      guard let m = args.first.map({ Int($0) }) ?? 1, m >= 1 else {
        throw fail("the depth multiplier must be an integer ≥ 1, found '\(args[0])'")
      }
      return DepthwiseSeparable(multiplier: m)
    case BatchNormFolding.id:
      try arguments(atMost: 0)
      return BatchNormFolding()
    case Fire.id:
      try arguments(atMost: 1)
      let r = try args.first.map { (s) throws(AdaError) in
        try ratio(s, "the squeeze ratio", in: { $0 > 0 && $0 <= 1 }, "(0, 1]")
      }
      return Fire(squeezeRatio: r ?? 0.25)
    case GAPHead.id:
      try arguments(atMost: 1)
      guard args.isEmpty || args[0] == "hidden" else { throw fail("expected 'hidden', found '\(args[0])'") }
      return GAPHead(keepHidden: !args.isEmpty)
    case Quantize.id:
      try arguments(atMost: 1)
      guard let bits = args.first.map({ Int($0) }) ?? 8, Quantize.supportedBits.contains(bits) else {
        throw fail("bits must be 8 or 4, found '\(args[0])'")
      }
      return Quantize(bits: bits)
    case EarlyExit.id:
      try arguments(atMost: 2)
      let blocks = (args.first ?? "").split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      guard !blocks.contains(where: \.isEmpty) else {
        throw fail("needs the block(s) to attach exits to")
      }
      var hidden: Int?
      if args.count == 2 {
        guard let h = Int(args[1]), h >= 1 else {
          throw fail("hidden units must be an integer ≥ 1, found '\(args[1])'")
        }
        hidden = h
      }
      return EarlyExit(after: blocks, hidden: hidden)
    default:
      throw AdaError(
        .invalidValue,
        "unknown operator '\(id)' in '\(text)'; valid operators: \(ids.joined(separator: ", "))")
    }
  }

  /// Parses several operator strings, in order (for a chain).
  public static func parse(_ texts: [String]) throws(AdaError) -> [any CompressionOperator] {
    var ops: [any CompressionOperator] = []
    for text in texts { ops.append(try parse(text)) }
    return ops
  }
}
