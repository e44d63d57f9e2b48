import AdaTensor
import Foundation
import XCTest

@testable import AdaTrain

final class ProgressReporterTests: XCTestCase {
  private func step(_ i: Int, of n: Int) -> StepReport {
    StepReport(
      epoch: 1, epochs: 2, step: i, steps: n, globalStep: i, loss: 0.5, meanLoss: 0.6, accuracy: 0.8,
      learningRate: 0.01, imagesPerSecond: 1234, elapsedSeconds: Double(i))
  }

  private let epoch = EpochReport(
    epoch: 1, epochs: 2, loss: 0.4, accuracy: 0.85, validationLoss: 0.45, validationAccuracy: 0.8,
    learningRate: 0.01, imagesPerSecond: 1200, elapsedSeconds: 3.5)

  func testJSONLinesCarryTheEventNameAndFlatFields() throws {
    var lines: [String] = []
    let r = JSONLinesReporter { lines.append($0) }
    r.report(.step(step(1, of: 3)))
    r.report(.epoch(epoch))
    r.report(
      .checkpoint(CheckpointReport(path: "/x/checkpoint.adackpt", position: TrainingPosition(epoch: 1))))
    XCTAssertEqual(lines.count, 3)
    let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    XCTAssertEqual(objects.map { $0["event"] as? String }, ["step", "epoch", "checkpoint"])
    XCTAssertEqual(objects[0]["step"] as? Int, 1)
    XCTAssertEqual(objects[0]["imagesPerSecond"] as? Double, 1234)
    XCTAssertEqual(objects[1]["validationAccuracy"] as? Double, 0.8)
    XCTAssertEqual(objects[2]["path"] as? String, "/x/checkpoint.adackpt")
    XCTAssertFalse(lines.contains { $0.contains("\n") }, "one object per line")
  }

  func testJSONLinesStepIntervalThinsStepsButKeepsTheLast() {
    var lines: [String] = []
    let r = JSONLinesReporter(stepInterval: 4) { lines.append($0) }
    for i in 1...10 { r.report(.step(step(i, of: 10))) }
    XCTAssertEqual(lines.count, 3, "steps 4, 8 and the last (10)")
  }

  func testTerminalBarPrintsOnlyEpochLinesWhenNotATerminal() {
    var out = ""
    let bar = TerminalProgressBar(isTerminal: false) { out += $0 }
    bar.report(.step(step(1, of: 3)))
    XCTAssertEqual(out, "", "no bar redraws into a log file")
    bar.report(.epoch(epoch))
    XCTAssertFalse(out.contains("\r"))
    XCTAssertTrue(out.hasPrefix("epoch 1/2 "), out)
    XCTAssertTrue(out.hasSuffix("\n"))
  }

  func testTerminalBarRedrawsInPlaceAndEndsEpochsWithANewline() {
    var out = ""
    let bar = TerminalProgressBar(isTerminal: true, minimumInterval: 0) { out += $0 }
    bar.report(.step(step(1, of: 4)))
    bar.report(.step(step(2, of: 4)))
    bar.report(.epoch(epoch))
    let draws = out.components(separatedBy: "\r").filter { !$0.isEmpty }
    XCTAssertEqual(draws.count, 3)
    XCTAssertTrue(draws[0].hasPrefix("epoch 1/2 [=====>"), draws[0])
    XCTAssertTrue(draws[1].contains("2/4 loss 0.6000 acc 80.0% 1234 img/s ETA 0:02"), draws[1])
    XCTAssertTrue(draws[2].contains("val_loss 0.4500 val_acc 80.0%"), draws[2])
    XCTAssertTrue(out.hasSuffix("\n"))
    XCTAssertEqual(out.filter { $0 == "\n" }.count, 1)
  }

  func testTerminalBarThrottlesRedrawsButAlwaysDrawsTheLastStep() {
    var out = ""
    let bar = TerminalProgressBar(isTerminal: true, minimumInterval: 3600) { out += $0 }
    for i in 1...50 { bar.report(.step(step(i, of: 50))) }
    XCTAssertEqual(
      out.components(separatedBy: "\r").filter { !$0.isEmpty }.count, 2, "the first and the last")
  }

  func testClockFormatsMinutesAndHours() {
    XCTAssertEqual(TerminalProgressBar.clock(75), "1:15")
    XCTAssertEqual(TerminalProgressBar.clock(3725), "1:02:05")
  }
}
