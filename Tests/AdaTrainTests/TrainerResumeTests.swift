import AdaNN
import AdaTensor
import TestSupport
import XCTest

@testable import AdaTrain

/// Checkpoint/resume through `Trainer.fit`: a run stopped anywhere and resumed must end with
/// exactly the bits of an uninterrupted run.
final class TrainerResumeTests: XCTestCase {
  private var dirs: [URL] = []

  override func tearDown() {
    for d in dirs { try? FileManager.default.removeItem(at: d) }
  }

  private func freshDirectory() -> String {
    let d = Fixtures.temporaryDirectory("adascale-train")
    dirs.append(d)
    return d.path
  }

  /// The cases: an MLP with batch-norm (moving statistics) and dropout (a random stream) on
  /// Adam with weight decay and a validation split; a CNN with a standalone softmax on Nesterov
  /// SGD with a warm-up + cosine schedule and random-crop augmentation.
  private func cases() -> [(String, Model, LabeledDataset, TrainConfig)] {
    var mlp = TrainConfig(
      epochs: 3, batchSize: 16, optimizer: .adam(), schedule: .constant(0.01), seed: 21,
      validationFraction: 0.2, weightDecay: 1e-3, checkpointEverySteps: 3)
    mlp.checkpointDirectory = nil
    let cnn = TrainConfig(
      epochs: 3, batchSize: 8, optimizer: .sgd(momentum: 0.9, nesterov: true),
      schedule: .cosine(initial: 0.05, decaySteps: 20, floor: 0.001).withWarmup(steps: 4), seed: 22,
      augmentation: AugmentationConfig(cropPadding: 1), checkpointEverySteps: 3)
    return [
      ("mlp", TinyTask.mlp(seed: 3, batchNormAndDropout: true), TinyTask.blobs(100, seed: 4), mlp),
      ("cnn", TinyTask.cnn(), TinyTask.halves(44, seed: 5), cnn),
    ]
  }

  private func assertBitIdentical(
    _ a: TrainResult, _ b: TrainResult, _ what: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(a.model.parameters.keys, b.model.parameters.keys, what, file: file, line: line)
    for key in a.model.parameters.keys {
      let x = a.model.parameters.tensors[key]!.scalars.map(\.bitPattern)
      let y = b.model.parameters.tensors[key]!.scalars.map(\.bitPattern)
      XCTAssertEqual(x, y, "\(what): \(key) differs", file: file, line: line)
    }
    // Same numbers in the epoch reports too (timings aside).
    func numbers(_ r: TrainResult) -> [[Double?]] {
      r.history.map {
        [$0.loss, $0.accuracy, $0.validationLoss, $0.validationAccuracy, Double($0.learningRate)]
      }
    }
    XCTAssertEqual(numbers(a), numbers(b), what, file: file, line: line)
    XCTAssertEqual(a.position, b.position, what, file: file, line: line)
  }

  func testInterruptedRunsResumeToBitIdenticalParameters() throws {
    for (name, model, data, base) in cases() {
      var reference = base
      reference.checkpointDirectory = freshDirectory()
      let uninterrupted = try Trainer(config: reference).fit(model, on: data)
      XCTAssertTrue(uninterrupted.completed)
      let steps = EpochSampler(
        count: data.count, validationFraction: base.validationFraction, batchSize: base.batchSize, seed: 0
      ).stepsPerEpoch
      // Stop between checkpoints (work since the last one is lost and redone), exactly at an
      // epoch boundary, and right after a mid-epoch checkpoint.
      for stopAt in [8, steps, 3] {
        var config = base
        config.checkpointDirectory = freshDirectory()
        let stopped = try Trainer(config: config).fit(model, on: data, stopWhen: { $0.globalStep == stopAt })
        XCTAssertFalse(stopped.completed)
        XCTAssertEqual(stopped.position.globalStep, stopAt)
        config.resume = true
        let resumed = try Trainer(config: config).fit(model, on: data)
        XCTAssertTrue(resumed.completed)
        assertBitIdentical(uninterrupted, resumed, "\(name) stopped at step \(stopAt)")
      }
    }
  }

  func testRunKilledTwiceStillEndsBitIdentical() throws {
    let (_, model, data, base) = cases()[1]
    let uninterrupted = try Trainer(config: base).fit(model, on: data)
    var config = base
    config.checkpointDirectory = freshDirectory()
    _ = try Trainer(config: config).fit(model, on: data, stopWhen: { $0.globalStep == 5 })
    config.resume = true
    _ = try Trainer(config: config).fit(model, on: data, stopWhen: { $0.globalStep == 11 })
    let resumed = try Trainer(config: config).fit(model, on: data)
    assertBitIdentical(uninterrupted, resumed, "two interruptions")
  }

  func testAFinishedRunCanBeExtendedWithMoreEpochs() throws {
    let (_, model, data, base) = cases()[0]
    var long = base
    long.epochs = 5
    let straight = try Trainer(config: long).fit(model, on: data)
    var short = base
    short.epochs = 2
    short.checkpointDirectory = freshDirectory()
    _ = try Trainer(config: short).fit(model, on: data)
    var extended = long
    extended.checkpointDirectory = short.checkpointDirectory
    extended.resume = true
    let result = try Trainer(config: extended).fit(model, on: data)
    assertBitIdentical(straight, result, "2 + 3 epochs vs 5")
  }

  func testResumeRefusesACheckpointFromAnotherConfiguration() throws {
    let (_, model, data, base) = cases()[0]
    var config = base
    config.epochs = 1
    config.checkpointDirectory = freshDirectory()
    _ = try Trainer(config: config).fit(model, on: data)
    config.seed += 1
    config.resume = true
    XCTAssertThrowsError(try Trainer(config: config).fit(model, on: data)) { e in
      let err = e as? AdaError
      XCTAssertEqual(err?.kind, .invalidValue)
      XCTAssertEqual(err?.path, "configHash")
      XCTAssertEqual(err?.file, Checkpoint.url(in: URL(fileURLWithPath: config.checkpointDirectory!)).path)
    }
  }

  func testResumeWithoutACheckpointStartsFresh() throws {
    let (_, model, data, base) = cases()[0]
    var config = base
    config.epochs = 1
    let plain = try Trainer(config: config).fit(model, on: data)
    config.checkpointDirectory = freshDirectory()
    config.resume = true
    assertBitIdentical(plain, try Trainer(config: config).fit(model, on: data), "fresh start")
  }
}
