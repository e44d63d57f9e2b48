import AdaCompress
import AdaNN
import AdaTensor
import AdaTrain
import Foundation
import TestSupport
import XCTest

/// The sandwich trainer on a small convnet and synthetic data: it learns, and a run stopped and
/// resumed from its checkpoint ends bit-identical to an uninterrupted one.
final class SupernetTrainerTests: XCTestCase {
  static func data(_ n: Int, seed: UInt64) -> LabeledDataset {
    var g = SeededGenerator(seed: seed)
    var images = Tensor(shape: [n, 8, 8, 4])
    var labels: [Int32] = []
    for i in 0..<n {
      let label = Int32(g.nextIndex(below: 10))
      labels.append(label)
      for j in 0..<(8 * 8 * 4) {
        let signal: Float = j % 10 == Int(label) ? 1 : 0
        images.scalars[i * 256 + j] = signal + 0.3 * (Float(g.nextIndex(below: 1000)) / 1000 - 0.5)
      }
    }
    return LabeledDataset(name: "synthetic", images: images, labels: labels, classCount: 10)
  }

  func supernet() throws -> Supernet {
    try Supernet(
      source: SmallModels.convNet(seed: 3),
      options: SupernetOptions(widths: [1, 0.5], branches: ["low-rank:0.5"], bits: [32, 8]))
  }

  let options = SupernetTrainingOptions(
    epochs: 2, batchSize: 16, learningRate: 2e-3, recalibrationBatches: 2, seed: 5)

  func testTrainingRaisesTheAccuracyOfTheLargestAndSmallest() throws {
    let train = Self.data(512, seed: 1)
    let validation = Self.data(96, seed: 2)
    let net = try supernet()
    let before = SubnetEvaluator(supernet: net, calibration: train, batchSize: 16, recalibrationBatches: 2)
    var options = self.options
    options.learningRate = 3e-3
    let result = try SupernetTrainer(options: options).train(
      net, on: train, validation: validation, calibration: train)
    XCTAssertTrue(result.completed)
    XCTAssertEqual(result.history.count, 2)
    let last = result.history.last!
    XCTAssertGreaterThan(last.largestAccuracy, try before.accuracy(of: net.largest, on: validation) + 0.2)
    XCTAssertGreaterThan(last.smallestAccuracy, try before.accuracy(of: net.smallest, on: validation) + 0.2)
    XCTAssertNotEqual(result.supernet.weights, net.weights)
  }

  /// The once-for-all space (hidden widths, elastic depth and resolution, progressive
  /// shrinking) trains too: configurations at 6×6 draw resized batches, and both ends learn.
  func testInvertedResidualSpaceWithResolutionsTrains() throws {
    func images(_ n: Int, seed: UInt64) -> LabeledDataset {
      var g = SeededGenerator(seed: seed)
      var x = Tensor(shape: [n, 8, 8, 3])
      var labels: [Int32] = []
      for i in 0..<n {
        let label = Int32(g.nextIndex(below: 5))
        labels.append(label)
        for j in 0..<192 {  // the class brightens one horizontal band
          let band = (j / 24) * 5 / 8 == Int(label) ? Float(1) : 0
          x.scalars[i * 192 + j] = band + 0.2 * (Float(g.nextIndex(below: 1000)) / 1000 - 0.5)
        }
      }
      return LabeledDataset(name: "bands", images: x, labels: labels, classCount: 5)
    }
    let (train, validation) = (images(256, seed: 1), images(64, seed: 2))
    let net = try Supernet(
      source: InvertedResidualModels.mobileNetV2Like(freshInit: true),
      options: SupernetOptions(widths: [1, 0.5], hiddenOnly: true, elasticDepth: true, resolutions: [8, 6]))
    let before = SubnetEvaluator(supernet: net, calibration: train, batchSize: 16, recalibrationBatches: 2)
    let result = try SupernetTrainer(
      options: SupernetTrainingOptions(
        epochs: 3, batchSize: 16, learningRate: 5e-3, recalibrationBatches: 2, seed: 5, progressive: 0.5)
    ).train(net, on: train, validation: validation, calibration: train)
    XCTAssertEqual(net.smallest.resolution, 6)
    let last = result.history.last!
    XCTAssertGreaterThan(last.largestAccuracy, try before.accuracy(of: net.largest, on: validation) + 0.15)
    XCTAssertGreaterThan(last.smallestAccuracy, try before.accuracy(of: net.smallest, on: validation) + 0.15)
  }

  func testStoppedAndResumedRunIsBitIdenticalToAnUninterruptedOne() throws {
    let train = Self.data(128, seed: 1)
    let validation = Self.data(32, seed: 2)
    let net = try supernet()
    let straight = try SupernetTrainer(options: options).train(
      net, on: train, validation: validation, calibration: train)
    let directory = NSTemporaryDirectory() + "adascale-supernet-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var resumableOptions = options
    resumableOptions.checkpointEverySteps = 3
    let trainer = SupernetTrainer(options: resumableOptions)
    for stop in [5, 11] {  // mid-epoch (after the step-3 checkpoint) and in the second epoch
      let partial = try trainer.train(
        net, on: train, validation: validation, calibration: train, checkpointDirectory: directory,
        resume: true,
        stopWhen: { $0.globalStep == stop })
      XCTAssertFalse(partial.completed)
    }
    let resumed = try trainer.train(
      net, on: train, validation: validation, calibration: train, checkpointDirectory: directory, resume: true
    )
    XCTAssertTrue(resumed.completed)
    XCTAssertEqual(resumed.supernet.weights, straight.supernet.weights)
    XCTAssertEqual(resumed.history.map(\.largestAccuracy), straight.history.map(\.largestAccuracy))
  }

  func testBatchNormRecalibrationAveragesTheBatchStatistics() throws {
    let model = SmallModels.convNet(seed: 4)
    let data = Self.data(48, seed: 9)
    let recalibrated = try BatchNormRecalibration.recalibrate(model, on: data, batchSize: 16, batches: 3)
    // Independent: per-channel mean over each batch of conv_a's output (bn reads conv_a), averaged.
    let executor = try Executor(graph: model.graph.keepingOnly(outputs: ["conv_a"]))
    var expected = [Double](repeating: 0, count: 16)
    for b in 0..<3 {
      let x = data.subset(Array((b * 16)..<((b + 1) * 16))).images
      let y = executor.predict(x, parameters: model.parameters)[0]
      for (i, v) in y.scalars.enumerated() { expected[i % 16] += Double(v) / Double(y.count / 16) / 3 }
    }
    assertClose(recalibrated.parameters["bn", "movingMean"]!.scalars, expected.map(Float.init), rtol: 1e-4)
    XCTAssertNotEqual(recalibrated.parameters["bn", "movingMean"], model.parameters["bn", "movingMean"])
    XCTAssertEqual(recalibrated.parameters["conv_a", "kernel"], model.parameters["conv_a", "kernel"])
  }
}
