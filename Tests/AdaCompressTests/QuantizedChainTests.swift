import AdaCompress
import AdaNN
import AdaTensor
import XCTest

/// `OperatorChain.apply`: the quantized-weights table through a chain.
final class QuantizedChainTests: XCTestCase {
  func testQuantizingLastCoversTheKernelsTheEarlierStepsMade() throws {
    let model = SmallModels.convNet()
    let chain = OperatorChain([.init(LowRank(rank: .ratio(0.25))), .init(Quantize(bits: 8))])
    let result = try chain.apply(to: model, quantized: [:], selecting: .all)
    let kernels = result.model.parameters.keys.filter { $0.hasSuffix("/kernel") }
    XCTAssertEqual(result.quantized.keys.sorted(), kernels)
    XCTAssertTrue(kernels.contains("fc1_lowrank/kernel"), "\(kernels)")
    XCTAssertNoThrow(try result.quantized.validate(against: result.model))
    XCTAssertEqual(result.report.after.weightBytes, result.model.weightBytes(quantized: result.quantized))
    XCTAssertEqual(result.report.before.weightBytes, 4 * model.parameters.scalarCount)
  }

  func testALaterStepDropsTheEntriesOfTheKernelsItRewrites() throws {
    let model = SmallModels.convNet()
    let chain = OperatorChain([
      .init(Quantize(bits: 4)), .init(LowRank(rank: .ratio(0.25)), selecting: .named(["fc1"])),
    ])
    let result = try chain.apply(to: model, quantized: [:], selecting: .all)
    XCTAssertEqual(
      result.quantized.keys.sorted(), ["conv_a/kernel", "conv_b/kernel", "dw/kernel", "fc2/kernel"])
    XCTAssertNoThrow(try result.quantized.validate(against: result.model))
    XCTAssertEqual(result.report.after.weightBytes, result.model.weightBytes(quantized: result.quantized))
  }

  func testAnInputTableIsCarriedAndCountedBefore() throws {
    let quantized = try Quantize(bits: 8).apply(to: SmallModels.convNet(), selecting: .named(["conv_b"]))
    let result = try OperatorChain([.init(GAPHead())]).apply(
      to: quantized.model, quantized: quantized.quantized, selecting: .all)
    XCTAssertEqual(result.quantized, quantized.quantized)
    XCTAssertEqual(result.report.before.weightBytes, quantized.report.after.weightBytes)
  }

  func testThePlainApplyCarriesTheTableThroughTheSteps() throws {
    let model = SmallModels.convNet()
    let chain = OperatorChain([
      .init(Quantize(bits: 8)), .init(LowRank(rank: .ratio(0.25)), selecting: .named(["fc1"])),
    ])
    let result = try chain.apply(to: model, selecting: .all)
    XCTAssertEqual(
      result.quantized.keys.sorted(), ["conv_a/kernel", "conv_b/kernel", "dw/kernel", "fc2/kernel"])
    XCTAssertEqual(result.quantized, try chain.apply(to: model, quantized: [:], selecting: .all).quantized)
    XCTAssertLessThan(result.report.after.weightBytes, 4 * result.model.parameters.scalarCount)
  }
}
