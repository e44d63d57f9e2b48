import AdaCompress
import AdaNN
import AdaTensor
import TestSupport
import XCTest

final class LayerSelectionTests: XCTestCase {
  typealias M = TestModels

  let lowRank = LowRank(rank: .absolute(4))

  func testAllSelectsEveryEligibleLayerInGraphOrder() throws {
    let model = M.residual()
    XCTAssertEqual(
      try lowRank.selectedNodes(in: model, .all), ["conv1", "conv2", "conv4"],
      "conv3 (6 → 8) and out (10 → 5) would not shrink at rank 4")
  }

  func testNamedKeepsGraphOrderAndIgnoresDuplicates() throws {
    let model = M.residual()
    XCTAssertEqual(
      try lowRank.selectedNodes(in: model, .named(["conv4", "conv1", "conv4"])), ["conv1", "conv4"])
  }

  func testNamingAnUnknownLayerIsAnErrorNamingIt() {
    XCTAssertThrowsError(try lowRank.selectedNodes(in: M.residual(), .named(["conv1", "conv9"]))) {
      let e = $0 as! AdaError
      XCTAssertEqual(e.kind, .invalidValue)
      XCTAssertEqual(e.path, "conv9")
      XCTAssertTrue(e.message.contains("no layer named 'conv9'"), e.message)
      XCTAssertTrue(e.message.contains("low-rank:r4"), e.message)
    }
  }

  func testNamingAnIneligibleLayerIsAnErrorSayingWhy() {
    XCTAssertThrowsError(try lowRank.selectedNodes(in: M.residual(), .named(["bn1"]))) {
      let e = $0 as! AdaError
      XCTAssertEqual(e.path, "bn1")
      XCTAssertTrue(e.message.contains("(batch-norm)"), e.message)
      XCTAssertTrue(e.message.contains("rewrites conv2d and dense"), e.message)
    }
  }

  func testFilterSelectsByKindAndMinimumParams() throws {
    let model = M.residual()
    // conv1 3·3·3·8+8 = 224, conv2 3·3·8·6+6 = 438, conv3 6·8+8 = 56, conv4 8·10+10 = 90.
    XCTAssertEqual(
      try lowRank.selectedNodes(in: model, .filter(kinds: ["conv2d"], minimumParams: 200)),
      ["conv1", "conv2"])
    XCTAssertEqual(try lowRank.selectedNodes(in: model, .filter(kinds: ["dense"], minimumParams: 0)), [])
    XCTAssertEqual(
      try lowRank.selectedNodes(in: model, .filter(kinds: nil, minimumParams: 90)),
      ["conv1", "conv2", "conv4"])
  }
}
