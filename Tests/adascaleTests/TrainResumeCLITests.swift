import AdaIO
import AdaNN
import AdaTensor
import AdaTrain
import Foundation
import TestSupport
import XCTest

/// The training issue's resume criterion, end to end through the real binary: a training process
/// killed with SIGKILL after it wrote a checkpoint, then run again with `--resume`, ends with the
/// same `.h5` — bit for bit — as an uninterrupted run of the same command.
///
/// Model: `Fixtures/arch/tiny_cnn.yaml` (conv, batch-norm, dropout, dense softmax: weights,
/// moving statistics, Adam slots and dropout masks must all be restored). Data: a 512-example
/// HDF5 dataset file written here with `TensorFile.write` (datasets/README.md format).
final class TrainResumeCLITests: XCTestCase {
  var directory: URL!

  override func setUpWithError() throws {
    directory = Fixtures.temporaryDirectory("train-resume")
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  /// 12×12 grey images of 4 classes: class `c` lights up quadrant `c` over uniform noise.
  /// Labels are stored as whole-number floats (the reader accepts them).
  static func writeQuadrantDataset(to path: String, train: Int = 512, test: Int = 128) throws {
    var g = SeededGenerator(seed: 42)
    func split(_ n: Int) -> (Tensor, Tensor) {
      var x = Tensor(shape: [n, 12, 12, 1])
      var y = Tensor(shape: [n])
      for i in 0..<n {
        let c = Int(g.next() % 4)
        y.scalars[i] = Float(c)
        for r in 0..<12 {
          for col in 0..<12 {
            let lit = r / 6 == c / 2 && col / 6 == c % 2
            x.scalars[(i * 12 + r) * 12 + col] = 0.3 * g.nextUniform() + (lit ? 0.5 : 0)
          }
        }
      }
      return (x, y)
    }
    let (xTrain, yTrain) = split(train)
    let (xTest, yTest) = split(test)
    try TensorFile.write(
      [("x_train", xTrain), ("y_train", yTrain), ("x_test", xTest), ("y_test", yTest)], to: path)
  }

  /// `adascale train` on the tiny CNN: 3 epochs, batch 8 (64 steps per epoch), dropout active.
  func trainArguments(output: String, dataset: String) -> [String] {
    [
      "train", "--arch", Fixtures.path("arch/tiny_cnn.yaml"), "--dataset", dataset, "--epochs", "3",
      "--batch-size", "8", "--seed", "7", "--output", output,
    ]
  }

  func testKilledTrainingResumedWithResumeEqualsAnUninterruptedRunBitForBit() throws {
    let dataset = path("quadrants.h5")
    try Self.writeQuadrantDataset(to: dataset)

    let uninterrupted = path("A.h5")
    let a = try CLI.run(trainArguments(output: uninterrupted, dataset: dataset), timeout: 300)
    XCTAssertEqual(a.status, 0, "uninterrupted run failed:\n\(a.stderr)")

    let resumed = path("B.h5")
    let arguments = trainArguments(output: resumed, dataset: dataset) + ["--checkpoint-every", "10"]
    let checkpoint = resumed + ".checkpoints/" + Checkpoint.fileName
    let run = try CLI.start(arguments, log: directory.appendingPathComponent("killed.log"))
    let appeared = run.waitForFile(checkpoint, timeout: 300)
    run.kill()
    guard appeared else {
      return XCTFail(
        "the run ended (or timed out) before its first checkpoint could be caught; nothing was killed:\n\(run.log)"
      )
    }
    XCTAssertTrue(run.wasKilled(), "expected death by SIGKILL, got \(run.process.terminationReason)")
    XCTAssertFalse(
      FileManager.default.fileExists(atPath: resumed), "the killed run must not have written its output")

    let saved = try Checkpoint.read(from: URL(fileURLWithPath: checkpoint))
    let totalSteps = 3 * 64
    XCTAssertGreaterThan(saved.position.globalStep, 0)
    XCTAssertLessThan(
      saved.position.globalStep, totalSteps, "the checkpoint must be from the middle of the run")

    // --json: the first line is the `start` event, which says where the run starts.
    let b = try CLI.run(arguments + ["--resume", "--json"], timeout: 300)
    XCTAssertEqual(b.status, 0, "resumed run failed:\n\(b.stderr)")
    let firstLine = try XCTUnwrap(b.stdout.split(separator: "\n").first, "no JSON lines:\n\(b.stderr)")
    let plan = try JSONDecoder().decode(TrainingPlan.self, from: Data(firstLine.utf8))
    XCTAssertEqual(plan.resumedFrom, checkpoint, "the second run must continue from the checkpoint")
    XCTAssertEqual(plan.start, saved.position, "the second run must start where the checkpoint stopped")

    try assertBitIdentical(resumed, uninterrupted)
  }

  func testCheckpointEveryMustBePositive() throws {
    let result = try CLI.run(
      trainArguments(output: path("x.h5"), dataset: path("missing.h5")) + ["--checkpoint-every", "0"])
    XCTAssertEqual(result.status, 1)
    XCTAssertTrue(result.stderr.contains("--checkpoint-every"), result.stderr)
  }

  /// Same graph, same parameter keys, every scalar with the same bit pattern.
  func assertBitIdentical(
    _ path: String, _ reference: String, file: StaticString = #filePath, line: UInt = #line
  )
    throws
  {
    let got = try KerasModelReader.load(path: path)
    let want = try KerasModelReader.load(path: reference)
    XCTAssertEqual(got.graph, want.graph, file: file, line: line)
    XCTAssertEqual(got.parameters.keys, want.parameters.keys, file: file, line: line)
    XCTAssertFalse(want.parameters.keys.isEmpty, file: file, line: line)
    for key in want.parameters.keys {
      guard let g = got.parameters.tensors[key], let w = want.parameters.tensors[key] else { continue }
      XCTAssertEqual(g.shape, w.shape, key, file: file, line: line)
      if let i = w.scalars.indices.first(where: { g.scalars[$0].bitPattern != w.scalars[$0].bitPattern }) {
        XCTFail(
          "\(key)[\(i)]: \(g.scalars[i]) after kill + resume vs \(w.scalars[i]) uninterrupted",
          file: file, line: line)
      }
    }
  }
}
