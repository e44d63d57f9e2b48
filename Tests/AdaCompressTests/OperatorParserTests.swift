import AdaCompress
import AdaNN
import AdaTensor
import XCTest

final class OperatorParserTests: XCTestCase {
  func testEveryOperatorStringParsesToItsOperator() throws {
    func parsed<T: CompressionOperator>(_ text: String, as _: T.Type) throws -> T {
      let op = try OperatorParser.parse(text)
      return try XCTUnwrap(op as? T, "\(text) parsed as \(type(of: op))")
    }
    XCTAssertEqual(try parsed("low-rank:0.25", as: LowRank.self), LowRank(rank: .ratio(0.25)))
    XCTAssertEqual(try parsed("low-rank", as: LowRank.self), LowRank(rank: .ratio(0.25)))
    XCTAssertEqual(try parsed("low-rank:r8", as: LowRank.self), LowRank(rank: .absolute(8)))
    XCTAssertEqual(
      try parsed("low-rank:0.5:any-size", as: LowRank.self),
      LowRank(rank: .ratio(0.5), requireReduction: false))
    XCTAssertEqual(try parsed("prune-channels:0.5", as: PruneChannels.self), PruneChannels(ratio: 0.5))
    XCTAssertEqual(
      try parsed("prune-channels:0.3:bn-gamma", as: PruneChannels.self),
      PruneChannels(ratio: 0.3, importance: .batchNormGamma))
    XCTAssertEqual(try parsed("depthwise-separable", as: DepthwiseSeparable.self), DepthwiseSeparable())
    XCTAssertEqual(
      try parsed("depthwise-separable:4", as: DepthwiseSeparable.self), DepthwiseSeparable(multiplier: 4))
    XCTAssertEqual(try parsed("fold-batch-norm", as: BatchNormFolding.self), BatchNormFolding())
    XCTAssertEqual(try parsed("fire:0.25", as: Fire.self), Fire(squeezeRatio: 0.25))
    XCTAssertEqual(try parsed("fire", as: Fire.self), Fire(squeezeRatio: 0.25))
    XCTAssertEqual(try parsed("gap-head", as: GAPHead.self), GAPHead())
    XCTAssertEqual(try parsed("quantize:8", as: Quantize.self), Quantize(bits: 8))
    XCTAssertEqual(try parsed("quantize:4", as: Quantize.self), Quantize(bits: 4))
    XCTAssertEqual(try parsed("quantize", as: Quantize.self), Quantize(bits: 8))
    XCTAssertEqual(try parsed("early-exit:block_2", as: EarlyExit.self), EarlyExit(after: ["block_2"]))
    XCTAssertEqual(
      try parsed("early-exit:block_1,block_2:32", as: EarlyExit.self),
      EarlyExit(after: ["block_1", "block_2"], hidden: 32))
  }

  /// The string form is the description: parsing a description gives the same operator back.
  func testDescriptionsParseBackToTheSameOperator() throws {
    let ops: [any CompressionOperator] = [
      LowRank(rank: .ratio(0.125)), LowRank(rank: .absolute(4), requireReduction: false),
      PruneChannels(ratio: 0.75, importance: .batchNormGamma), DepthwiseSeparable(), BatchNormFolding(),
      DepthwiseSeparable(multiplier: 3), Fire(squeezeRatio: 0.5), GAPHead(), Quantize(bits: 4),
      EarlyExit(after: ["a", "b_c"], hidden: 3),
    ]
    for op in ops {
      XCTAssertEqual(try OperatorParser.parse(op.description).description, op.description)
    }
    XCTAssertEqual(Set(OperatorParser.ids).count, OperatorParser.ids.count)
    XCTAssertEqual(Set(OperatorParser.syntax.keys), Set(OperatorParser.ids))
  }

  func testUnknownOperatorNamesTheStringAndListsTheValidIds() {
    XCTAssertThrowsError(try OperatorParser.parse("lowrank:0.25")) { error in
      let message = (error as? AdaError)?.message ?? ""
      XCTAssertTrue(message.contains("'lowrank:0.25'"), message)
      for id in OperatorParser.ids { XCTAssertTrue(message.contains(id), "\(id) missing from: \(message)") }
      XCTAssertEqual((error as? AdaError)?.kind, .invalidValue)
    }
  }

  func testBadArgumentsNameTheStringAndTheSyntax() {
    let cases: [(String, String)] = [
      ("low-rank:abc", "rank ratio must be a number in (0, 1], found 'abc'"),
      ("low-rank:0", "found '0'"),
      ("low-rank:1.5", "found '1.5'"),
      ("low-rank:r0", "r<k> with k ≥ 1"),
      ("low-rank:0.25:all", "expected 'any-size'"),
      ("prune-channels:1", "[0, 1)"),
      ("prune-channels:0.5:l2", "l1 or bn-gamma"),
      ("depthwise-separable:0", "depth multiplier must be an integer ≥ 1, found '0'"),
      ("depthwise-separable:1.5", "found '1.5'"),
      ("depthwise-separable:2:3", "at most 1 argument"),
      ("fold-batch-norm:2", "takes no arguments"),
      ("gap-head:1", "expected 'hidden', found '1'"),
      ("gap-head:hidden:1", "at most 1 argument"),
      ("fire:0", "squeeze ratio"),
      ("fire:0.5:1", "at most 1 argument"),
      ("quantize:3", "8 or 4, found '3'"),
      ("quantize:eight", "8 or 4"),
      ("early-exit", "needs the block"),
      ("early-exit:a,,b", "needs the block"),
      ("early-exit:a:0", "hidden units"),
      ("early-exit:a:8:9", "at most 2 arguments"),
    ]
    for (text, expected) in cases {
      XCTAssertThrowsError(try OperatorParser.parse(text), text) { error in
        let message = (error as? AdaError)?.message ?? "\(error)"
        XCTAssertTrue(message.contains("operator '\(text)'"), "\(text): \(message)")
        XCTAssertTrue(message.contains(expected), "\(text): \(message)")
        XCTAssertTrue(message.contains("syntax: "), "\(text): \(message)")
      }
    }
  }

  func testParsingAListKeepsTheOrderAndStopsAtTheFirstBadString() throws {
    let ops = try OperatorParser.parse(["prune-channels:0.5", "quantize:4"])
    XCTAssertEqual(ops.map(\.description), ["prune-channels:0.5", "quantize:4"])
    XCTAssertThrowsError(try OperatorParser.parse(["quantize:8", "nope"])) { error in
      XCTAssertTrue((error as? AdaError)?.message.contains("'nope'") ?? false)
    }
  }
}
