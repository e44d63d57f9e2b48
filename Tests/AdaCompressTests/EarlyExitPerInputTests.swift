import AdaCompress
import AdaNN
import AdaTensor
import TestSupport
import XCTest

/// `ExitExecutor` on a real network with heads from `EarlyExit`: the Fashion-MNIST CNN with exits
/// after `pool1` and `pool2` (outputs reordered to the exits, then the final output).
final class EarlyExitPerInputTests: XCTestCase {
  func testPerInputExitsOnTheFashionMNISTCNNFollowTheOfflineRuleAndHoldFewerActivationBytes() throws {
    let source = try TestModels.fmnistCNN()
    var model = try EarlyExit(after: ["pool1", "pool2"], seed: 4).apply(to: source, selecting: .all).model
    let exits = Array(model.graph.outputs.dropFirst())
    XCTAssertEqual(exits, ["pool1_exit", "pool2_exit"])
    model.graph.outputs = exits + ["fc2"]
    let exec = try ExitExecutor(graph: model.graph, exits: exits, confidence: .maxSoftmax)
    var g = SeededGenerator(seed: 12)
    let n = 30
    let x = Tensor.uniform([n, 28, 28, 1], lo: 0, hi: 1, using: &g)
    var plainMeter = ActivationMeter()
    let full = try Executor(graph: model.graph).predict(x, parameters: model.parameters, meter: &plainMeter)
    // Thresholds halfway between two inputs' confidences (a last-bit difference of the GEMM on a
    // smaller batch cannot move an input across): a third leave at each exit.
    let scores = full.dropLast().map { ExitConfidence.maxSoftmax.scores($0, isProbability: true) }
    let thresholds: [Float?] = scores.enumerated().map { k, s in
      let sorted = s.sorted()
      let i = k == 0 ? 2 * n / 3 : n / 2
      return (sorted[i - 1] + sorted[i]) / 2
    }
    var staticMeter = ActivationMeter()
    _ = try Executor(graph: source.graph).predict(x, parameters: source.parameters, meter: &staticMeter)
    var meter = ActivationMeter()
    let r = try exec.predict(x, parameters: model.parameters, thresholds: thresholds, meter: &meter)
    let want: [Int] = (0..<n).map { i in
      let k: Int? = thresholds.indices.first { k in scores[k][i] >= thresholds[k]! }
      return k ?? thresholds.count
    }
    XCTAssertEqual(r.exitIndices, want)
    for i in 0..<n {
      let rows: Range<Int> = (i * 10)..<(i * 10 + 10)
      let got: [Float] = Array(r.output.scalars[rows])
      let expected: [Float] = Array(full[want[i]].scalars[rows])
      assertClose(got, expected, rtol: 1e-5, atol: 1e-7, "input \(i) (exit \(want[i]))")
    }
    let h = r.histogram
    XCTAssertTrue(h.allSatisfy { $0 > 0 }, "\(h)")
    XCTAssertEqual(r.rowsRun[model.graph.indexByName["conv2"]!], n - h[0], "exit-0 inputs never reach conv2")
    XCTAssertEqual(r.rowsRun[model.graph.indexByName["fc1"]!], h[2])
    print(
      "fmnist CNN, batch \(n), exits \(h): per input peak \(meter.peakBytes) B, total \(meter.totalBytes) B; "
        + "plain peak \(plainMeter.peakBytes) B, total \(plainMeter.totalBytes) B; "
        + "static (no exits) peak \(staticMeter.peakBytes) B, total \(staticMeter.totalBytes) B")
    XCTAssertLessThanOrEqual(meter.peakBytes, plainMeter.peakBytes)
    XCTAssertLessThan(meter.totalBytes, plainMeter.totalBytes)
    XCTAssertLessThanOrEqual(meter.peakBytes, staticMeter.peakBytes)
    XCTAssertLessThan(meter.totalBytes, staticMeter.totalBytes)
  }
}
