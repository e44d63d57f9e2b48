import AdaNN
import AdaTensor
import TestSupport
import XCTest

@testable import AdaTrain

/// Tiny models and data for end-to-end runs (debug build, two cores: keep them small).
enum TinyTask {
  /// Three Gaussian blobs in 4-D (std 0.6 around well-separated centres): linearly separable
  /// in practice, so a small MLP must reach > 90%.
  static func blobs(_ n: Int, seed: UInt64) -> LabeledDataset {
    let centres: [[Float]] = [[2, 0, 0, -1], [-1, 2, 1, 0], [0, -2, -1.5, 1.5]]
    var g = SeededGenerator(seed: seed)
    var x: [Float] = []
    var y: [Int32] = []
    for i in 0..<n {
      let c = i % 3
      x += centres[c].map { $0 + 0.6 * g.nextNormal() }
      y.append(Int32(c))
    }
    return LabeledDataset(name: "blobs", images: Tensor(shape: [n, 4], scalars: x), labels: y, classCount: 3)
  }

  /// Dense(16, relu) → Dense(3, softmax), the Keras way (softmax fused into the last Dense).
  static func mlp(seed: UInt64 = 1, hidden: Int = 16, batchNormAndDropout: Bool = false) -> Model {
    var nodes = [Node(name: "in", spec: .input(InputSpec(shape: [4])), inputs: [])]
    if batchNormAndDropout {
      nodes += [
        Node(name: "d1", spec: .dense(DenseSpec(units: hidden)), inputs: ["in"]),
        Node(name: "bn", spec: .batchNorm(BatchNormSpec(momentum: 0.9)), inputs: ["d1"]),
        Node(name: "act", spec: .activation(.relu), inputs: ["bn"]),
        Node(name: "drop", spec: .dropout(DropoutSpec(rate: 0.2)), inputs: ["act"]),
        Node(name: "d2", spec: .dense(DenseSpec(units: 3, activation: .softmax)), inputs: ["drop"]),
      ]
    } else {
      nodes += [
        Node(name: "d1", spec: .dense(DenseSpec(units: hidden, activation: .relu)), inputs: ["in"]),
        Node(name: "d2", spec: .dense(DenseSpec(units: 3, activation: .softmax)), inputs: ["d1"]),
      ]
    }
    let graph = Graph(name: "mlp", nodes: nodes, outputs: ["d2"])
    return Model(graph: graph, parameters: try! Parameters.initialize(for: graph, seed: seed))
  }

  /// 6×6×1 images: class 0 has a bright left half, class 1 a bright right half (flips would
  /// swap them, so augmentation here is crop only).
  static func halves(_ n: Int, seed: UInt64) -> LabeledDataset {
    var g = SeededGenerator(seed: seed)
    var x: [Float] = []
    var y: [Int32] = []
    for i in 0..<n {
      let c = i % 2
      for _ in 0..<6 {
        for col in 0..<6 {
          x.append((col < 3) == (c == 0) ? 0.8 + 0.2 * g.nextUniform() : 0.2 * g.nextUniform())
        }
      }
      y.append(Int32(c))
    }
    return LabeledDataset(
      name: "halves", images: Tensor(shape: [n, 6, 6, 1], scalars: x), labels: y, classCount: 2)
  }

  /// Conv2D(4, 3×3, relu) → Flatten → Dense(2) → Softmax (a separate softmax node).
  static func cnn(seed: UInt64 = 2) -> Model {
    let graph = Graph(
      name: "cnn",
      nodes: [
        Node(name: "in", spec: .input(InputSpec(shape: [6, 6, 1])), inputs: []),
        Node(
          name: "conv", spec: .conv2D(Conv2DSpec(filters: 4, kernel: .square(3), activation: .relu)),
          inputs: ["in"]),
        Node(name: "flat", spec: .flatten, inputs: ["conv"]),
        Node(name: "logits", spec: .dense(DenseSpec(units: 2)), inputs: ["flat"]),
        Node(name: "probs", spec: .softmax(SoftmaxSpec()), inputs: ["logits"]),
      ],
      outputs: ["probs"])
    return Model(graph: graph, parameters: try! Parameters.initialize(for: graph, seed: seed))
  }
}

/// Records every event.
final class RecordingReporter: ProgressReporter {
  var events: [TrainingEvent] = []
  func report(_ event: TrainingEvent) { events.append(event) }
  var names: [String] { events.map(\.name) }
}

final class TrainerTests: XCTestCase {
  func testTinyMLPLossFallsAndAccuracyExceedsNinetyPercent() throws {
    let data = TinyTask.blobs(300, seed: 5)
    let test = TinyTask.blobs(150, seed: 6)
    let config = TrainConfig(
      epochs: 15, batchSize: 16, optimizer: .adam(), schedule: .constant(0.01), seed: 3,
      validationFraction: 0.2)
    let trainer = Trainer(config: config)
    let before = try trainer.evaluate(TinyTask.mlp(), on: test, batchSize: 64)
    let result = try trainer.fit(TinyTask.mlp(), on: data)
    XCTAssertTrue(result.completed)
    XCTAssertEqual(result.history.count, 15)
    let first = result.history.first!, last = result.history.last!
    XCTAssertLessThan(last.loss, 0.5 * first.loss, "training loss falls: \(result.history.map(\.loss))")
    XCTAssertGreaterThan(last.accuracy, 0.9)
    XCTAssertGreaterThan(last.validationAccuracy ?? 0, 0.9)
    let after = try trainer.evaluate(result.model, on: test, batchSize: 64)
    XCTAssertLessThan(after.loss, before.loss)
    XCTAssertGreaterThan(after.accuracy, 0.9, "held-out accuracy \(after.accuracy)")
    XCTAssertEqual(result.model.graph, TinyTask.mlp().graph, "the trained model keeps its softmax")
  }

  func testSGDWithNesterovMomentumAlsoLearns() throws {
    let data = TinyTask.blobs(240, seed: 8)
    let config = TrainConfig(
      epochs: 10, batchSize: 16, optimizer: .sgd(momentum: 0.9, nesterov: true),
      schedule: .cosine(initial: 0.05, decaySteps: 150, floor: 0.005).withWarmup(steps: 10), seed: 4,
      weightDecay: 1e-4)
    let result = try Trainer(config: config).fit(TinyTask.mlp(seed: 9), on: data)
    XCTAssertGreaterThan(result.history.last!.accuracy, 0.9)
  }

  func testEvaluationLossIsKerasCrossEntropyOnTheSoftmaxOutput() throws {
    let model = TinyTask.mlp(seed: 4)
    let data = TinyTask.blobs(30, seed: 2)
    let e = try Trainer(config: TrainConfig()).evaluate(model, on: data, batchSize: 7)
    let probs = try Executor(graph: model.graph).predict(data.images, parameters: model.parameters)[0]
    let expected = CrossEntropyFromProbabilities().evaluate(probabilities: probs, labels: data.labels).loss
    XCTAssertEqual(Float(e.loss), expected, accuracy: 1e-5)
    XCTAssertEqual(e.accuracy, Double(correctPredictions(probs, labels: data.labels)) / 30)
  }

  func testTrainableKeysExcludeMovingStatistics() throws {
    let keys = try FitSetup.trainableKeys(TinyTask.mlp(batchNormAndDropout: true).graph)
    XCTAssertEqual(keys, ["bn/beta", "bn/gamma", "d1/bias", "d1/kernel", "d2/bias", "d2/kernel"])
  }

  func testEventsComeInOrderWithCheckpoints() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let config = TrainConfig(
      epochs: 2, batchSize: 10, seed: 1, checkpointDirectory: dir.path, checkpointEverySteps: 2)
    let recorder = RecordingReporter()
    _ = try Trainer(config: config, reporter: recorder).fit(TinyTask.mlp(), on: TinyTask.blobs(30, seed: 1))
    // 3 steps per epoch; mid-epoch checkpoints at global steps 2 and 4, plus one per epoch end.
    XCTAssertEqual(
      recorder.names,
      [
        "start", "step", "step", "checkpoint", "step", "epoch", "checkpoint",
        "step", "checkpoint", "step", "step", "epoch", "checkpoint", "finish",
      ])
    XCTAssertEqual(
      try Checkpoint.latest(in: dir)?.position, TrainingPosition(epoch: 2, step: 0, globalStep: 6))
  }
}

final class TrainerDistillationAndAugmentationTests: XCTestCase {
  func testStudentLearnsFromTheTeacherAloneWhenAlphaIsOne() throws {
    let data = TinyTask.blobs(240, seed: 11)
    let teacher = try Trainer(
      config: TrainConfig(epochs: 10, batchSize: 16, schedule: .constant(0.01), seed: 1)
    )
    .fit(TinyTask.mlp(seed: 2), on: data).model
    // α = 1: the labels carry no weight, every bit of signal comes from the teacher.
    var config = TrainConfig(epochs: 10, batchSize: 16, schedule: .constant(0.01), seed: 2)
    config.distillation = Distillation(teacher: teacher, alpha: 1, temperature: 2)
    let student = try Trainer(config: config).fit(TinyTask.mlp(seed: 3, hidden: 8), on: data)
    let accuracy = try Trainer(config: config).evaluate(
      student.model, on: TinyTask.blobs(150, seed: 12), batchSize: 50
    ).accuracy
    XCTAssertGreaterThan(accuracy, 0.9)
  }

  func testCNNWithCropAugmentationLearns() throws {
    let config = TrainConfig(
      epochs: 12, batchSize: 8, optimizer: .sgd(momentum: 0.9), schedule: .constant(0.05), seed: 3,
      augmentation: AugmentationConfig(cropPadding: 1))
    let result = try Trainer(config: config).fit(TinyTask.cnn(), on: TinyTask.halves(80, seed: 1))
    let test = try Trainer(config: config).evaluate(
      result.model, on: TinyTask.halves(40, seed: 2), batchSize: 16)
    XCTAssertLessThan(result.history.last!.loss, result.history.first!.loss)
    XCTAssertGreaterThan(test.accuracy, 0.9)
  }

  func testMismatchedDataIsReportedBeforeTraining() {
    let trainer = Trainer(config: TrainConfig())
    let wrongShape = LabeledDataset(name: "d", images: Tensor(shape: [2, 5]), labels: [0, 1], classCount: 3)
    XCTAssertThrowsError(try trainer.fit(TinyTask.mlp(), on: wrongShape)) { e in
      XCTAssertEqual((e as? AdaError)?.kind, .badShape)
    }
    let wrongClasses = LabeledDataset(
      name: "d", images: Tensor(shape: [2, 4]), labels: [0, 1], classCount: 5)
    XCTAssertThrowsError(try trainer.fit(TinyTask.mlp(), on: wrongClasses)) { e in
      XCTAssertEqual((e as? AdaError)?.path, "model/d2")
    }
    let badLabel = LabeledDataset(name: "d", images: Tensor(shape: [2, 4]), labels: [0, 7], classCount: 3)
    XCTAssertThrowsError(try trainer.fit(TinyTask.mlp(), on: badLabel)) { e in
      XCTAssertEqual((e as? AdaError)?.path, "d/labels[1]")
    }
    var augmenting = TrainConfig()
    augmenting.augmentation.horizontalFlip = true
    XCTAssertThrowsError(try Trainer(config: augmenting).fit(TinyTask.mlp(), on: TinyTask.blobs(6, seed: 1)))
    { e in
      XCTAssertEqual((e as? AdaError)?.path, "train.augmentation")
    }
  }
}

final class TrainerMultiOutputTests: XCTestCase {
  /// in → d1 (relu) → d2 (softmax, output 0); d1 → exit (softmax, output 1).
  private func twoHeads() -> Model {
    let graph = Graph(
      name: "two",
      nodes: [
        Node(name: "in", spec: .input(InputSpec(shape: [4])), inputs: []),
        Node(name: "d1", spec: .dense(DenseSpec(units: 8, activation: .relu)), inputs: ["in"]),
        Node(name: "d2", spec: .dense(DenseSpec(units: 3, activation: .softmax)), inputs: ["d1"]),
        Node(name: "exit", spec: .dense(DenseSpec(units: 3, activation: .softmax)), inputs: ["d1"]),
      ],
      outputs: ["d2", "exit"])
    return Model(graph: graph, parameters: try! Parameters.initialize(for: graph, seed: 4))
  }

  func testHeadsWithoutALossAreNotUpdatedEvenWithWeightDecay() throws {
    let model = twoHeads()
    let config = TrainConfig(
      epochs: 2, batchSize: 8, optimizer: .adam(), schedule: .constant(0.01), weightDecay: 0.1)
    let result = try Trainer(config: config, objective: ClassificationObjective(outputWeights: [1, 0]))
      .fit(model, on: TinyTask.blobs(48, seed: 3))
    XCTAssertEqual(result.model.parameters["exit", "kernel"], model.parameters["exit", "kernel"])
    XCTAssertEqual(result.model.parameters["exit", "bias"], model.parameters["exit", "bias"])
    XCTAssertNotEqual(result.model.parameters["d2", "kernel"], model.parameters["d2", "kernel"])
    XCTAssertNotEqual(result.model.parameters["d1", "kernel"], model.parameters["d1", "kernel"])
  }

  func testBothHeadsLearnWhenBothCarryALoss() throws {
    let config = TrainConfig(epochs: 8, batchSize: 8, schedule: .constant(0.01), seed: 2)
    let trainer = Trainer(config: config)
    let result = try trainer.fit(twoHeads(), on: TinyTask.blobs(120, seed: 3))
    let test = TinyTask.blobs(60, seed: 4)
    for head in ["d2", "exit"] {
      var g = result.model.graph
      g.outputs = [head]
      let single = Model(graph: g, parameters: result.model.parameters)
      XCTAssertGreaterThan(try trainer.evaluate(single, on: test, batchSize: 30).accuracy, 0.9, head)
    }
  }
}
