import AdaBundle
import AdaBundleWriter
import AdaIO
import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// A bundle with an early-exit variant: the writer writes the multi-exit file and its plot, the
/// reader gives the plan and the model back, and broken plans are located errors.
final class BundleExitsTests: XCTestCase {
  var dir: URL!

  override func setUp() { dir = Fixtures.temporaryDirectory("adascale-exits") }
  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  var bundle: String { dir.appendingPathComponent("bundle").path }

  func testWritesAndReadsTheMultiExitFile() throws {
    try BundleWriter.write(BundleFixtures.contentsWithExits(), to: bundle, overwrite: false)
    XCTAssertTrue(FileManager.default.fileExists(atPath: bundle + "/variants/v03_exits.h5"))
    let svg = try String(contentsOfFile: bundle + "/exits-v03.svg", encoding: .utf8)
    XCTAssertTrue(svg.contains("data-variant=\"drop-1\""), "one point per operating point")
    XCTAssertTrue(svg.contains("MACs per input"))
    XCTAssertFalse(FileManager.default.fileExists(atPath: bundle + "/exits-v01.svg"), "v01 has no exits")

    let opened = try ModelBundle.open(bundle)
    let (model, _, plan) = try opened.loadExitVariant("v03")
    XCTAssertEqual(model.graph.outputs, ["conv1_exit", "fc"])
    XCTAssertEqual(plan, BundleFixtures.exitPlan())
    // The last output is the static variant's output, exactly.
    let (staticModel, _) = try opened.loadVariant("v03")
    var g = SeededGenerator(seed: 3)
    let x = Tensor.uniform([5, 4, 4, 2], lo: -1, hi: 1, using: &g)
    let multi = try Executor(graph: model.graph).predict(x, parameters: model.parameters)
    let single = try Executor(graph: staticModel.graph).predict(x, parameters: staticModel.parameters)
    XCTAssertEqual(multi[1], single[0])
    XCTAssertEqual(try opened.operatingPoint("drop-1", variant: "v03").thresholds, [0.8])
  }

  func testAskingForExitsTheVariantLacksNamesWhatExists() throws {
    try BundleWriter.write(BundleFixtures.contentsWithExits(), to: bundle, overwrite: false)
    let opened = try ModelBundle.open(bundle)
    let e = try XCTUnwrap(XCTAssertThrowsAdaError(try opened.exitPlan("v01")))
    XCTAssertTrue(e.message.contains("variants with exits: v03"), e.message)
    let p = try XCTUnwrap(XCTAssertThrowsAdaError(try opened.operatingPoint("budget-0.3", variant: "v03")))
    XCTAssertTrue(p.message.contains("drop-0, drop-1"), p.message)
  }

  func testWriterRefusesAThresholdOutsideTheUnitInterval() {
    let e = XCTAssertThrowsAdaError(
      try BundleWriter.write(BundleFixtures.contentsWithExits(threshold: 1.5), to: bundle, overwrite: false))
    XCTAssertEqual(e?.path, "variants[2].exits.operating_points[1].thresholds[0]")
    XCTAssertFalse(FileManager.default.fileExists(atPath: bundle), "nothing written")
  }

  func testReaderRefusesABrokenPlanNamingTheField() throws {
    try BundleWriter.write(BundleFixtures.contentsWithExits(), to: bundle, overwrite: false)
    let manifest = bundle + "/manifest.json"
    let text = try String(contentsOfFile: manifest, encoding: .utf8)
    let broken = text.replacingOccurrences(of: "0.8\n", with: "-0.25\n")
    XCTAssertNotEqual(text, broken, "the threshold is in the manifest")
    try broken.write(toFile: manifest, atomically: true, encoding: .utf8)
    let e = XCTAssertThrowsAdaError(try ModelBundle.open(bundle))
    XCTAssertEqual(e?.path, "variants[2].exits.operating_points[1].thresholds[0]")
    XCTAssertEqual(e?.file, manifest)

    let swaps = text.replacingOccurrences(
      of: "\"validation_swaps\" : 0.03", with: "\"validation_swaps\" : 1.5")
    XCTAssertNotEqual(text, swaps, "the share is in the manifest")
    try swaps.write(toFile: manifest, atomically: true, encoding: .utf8)
    let share = XCTAssertThrowsAdaError(try ModelBundle.open(bundle))
    XCTAssertEqual(share?.path, "variants[2].exits.operating_points[1].validation_swaps")

    try text.write(toFile: manifest, atomically: true, encoding: .utf8)
    try FileManager.default.removeItem(atPath: bundle + "/variants/v03_exits.h5")
    let missing = XCTAssertThrowsAdaError(try ModelBundle.open(bundle))
    XCTAssertEqual(missing?.kind, .fileNotFound)
    XCTAssertTrue(missing?.path?.hasSuffix("variants[2].exits.file") == true, missing?.path ?? "")
  }

  /// `predictionError` against simulation: inputs are right under both the point and the
  /// static variant (80 %), only the static variant (4 %), only the point (1.5 %) or neither; a
  /// validation split of 2000 and a test split of 1000 are drawn 400 times, and the spread of
  /// (test's change − validation's change) must match the formula's mean within 10 %. Without
  /// the test split's term the formula would be 0.58× the spread.
  func testPredictionErrorIsTheSamplingSpreadOfThePairedPrediction() {
    var g = SeededGenerator(seed: 12)
    func draw(_ n: Int) -> (delta: Double, swaps: Double) {
      var (pointOnly, staticOnly) = (0, 0)
      for _ in 0..<n {
        let u = Double.random(in: 0..<1, using: &g)
        if u < 0.04 { staticOnly += 1 } else if u < 0.055 { pointOnly += 1 }
      }
      return (Double(pointOnly - staticOnly) / Double(n), Double(pointOnly + staticOnly) / Double(n))
    }
    var errors: [Double] = []
    var predicted: [Double] = []
    for _ in 0..<400 {
      let (validation, test) = (draw(2000), draw(1000))
      var plan = BundleFixtures.exitPlan()
      plan.staticValidationAccuracy = 0.9
      var point = plan.operatingPoints[0]
      point.validationAccuracy = 0.9 + validation.delta
      point.validationSwaps = validation.swaps
      let predictedTest = plan.predictedTestAccuracy(of: point, staticTestAccuracy: 0.85)!
      errors.append((0.85 + test.delta) - predictedTest)
      predicted.append(plan.predictionError(of: point, validationExamples: 2000, testExamples: 1000)!)
    }
    let mean = errors.reduce(0, +) / Double(errors.count)
    let spread = (errors.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(errors.count - 1))
      .squareRoot()
    let formula = predicted.reduce(0, +) / Double(predicted.count)
    XCTAssertEqual(formula / spread, 1, accuracy: 0.1, "formula \(formula), simulated \(spread)")
    XCTAssertEqual(mean, 0, accuracy: 3 * spread / 20, "the paired prediction is unbiased")
    var old = BundleFixtures.exitPlan()
    old.operatingPoints[0].validationSwaps = nil
    XCTAssertNil(
      old.predictionError(of: old.operatingPoints[0], validationExamples: 100, testExamples: 200),
      "a bundle without validation_swaps has no sd")
  }

  func testReportHasAnEarlyExitSection() {
    let md = Report.markdown(BundleFixtures.contentsWithExits())
    XCTAssertTrue(md.contains("## Early exits"), md)
    XCTAssertTrue(md.contains("`drop-1` | 0.800 | 48 / 52 | 674 | 33.1 %"), md)
    // v03: 87.5 % static on test, 88.0 % on validation; drop-0 87.5 % on validation predicts
    // 87.0 % on test, which measured 87.4 %.
    XCTAssertTrue(
      md.contains("within 0.40 points at all 2 operating points (the largest error: `v03` `drop-0`)"), md)
    // Sampling sd, 100 validation and 200 test examples: drop-0 swaps 2 % at δ = −0.5 points,
    // √((0.02 − 0.005²)(1/100 + 1/200)) = 1.73 points; drop-1 3 % at δ = −1.4,
    // √((0.03 − 0.014²)(0.015)) = 2.11. Errors 0.40 and 0.10: 0.23 and 0.05 sd, RMS 0.17.
    XCTAssertTrue(md.contains("| +0.40 (sd 1.73) |") && md.contains("| +0.10 (sd 2.11) |"), md)
    XCTAssertTrue(
      md.contains(
        "sampling standard deviations are 1.73–2.11 points (100 validation and 200 test examples); "
          + "the largest error is 0.23 of its point's, the RMS 0.17"), md)
    XCTAssertTrue(md.contains("[exits-v03.svg](exits-v03.svg)"))
    XCTAssertFalse(Report.markdown(BundleFixtures.contents()).contains("## Early exits"))
  }
}
