import AdaCompress
import AdaNN
import AdaTensor
import AdaTrain
import TestSupport
import XCTest

final class DistillationFineTuneTests: XCTestCase {
  /// 96 seeded inputs labelled by the teacher's own predictions.
  func data(_ teacher: Model) -> LabeledDataset {
    let x = SmallModels.inputs(96, [8, 8, 4], seed: 21)
    let labels = SmallModels.predict(teacher, x)[0].argmaxRows().map { Int32($0) }
    return LabeledDataset(name: "synthetic", images: x, labels: labels, classCount: 10)
  }

  /// Mean KL(teacher ‖ student) of output `k` at temperature 1.
  func divergence(_ teacher: Model, _ student: Model, _ x: Tensor, output k: Int = 0) -> Float {
    let p = SmallModels.predict(teacher, x)[0]
    let q = SmallModels.predict(student, x)[k]
    var kl: Float = 0
    for i in 0..<p.count where p.scalars[i] > 0 {
      kl += p.scalars[i] * (log(p.scalars[i]) - log(max(q.scalars[i], 1e-12)))
    }
    return kl / Float(p.shape[0])
  }

  func testFineTuningACompressedModelBringsItCloserToTheTeacher() throws {
    let teacher = SmallModels.convNet()
    let student = try GAPHead().apply(to: teacher, selecting: .all).model
    let train = data(teacher)
    let before = divergence(teacher, student, train.images)
    let result = try Distillation(teacher: teacher, alpha: 1, temperature: 2).fineTune(
      student, on: train, options: FineTuneOptions(epochs: 4, batchSize: 32, learningRate: 3e-3, seed: 5))
    XCTAssertEqual(result.history.count, 4)
    XCTAssertEqual(result.model.graph, student.graph)
    let after = divergence(teacher, result.model, train.images)
    XCTAssertLessThan(after, before * 0.8, "KL \(before) → \(after)")
  }

  func testEarlyExitsAreTrainedTowardsTheTeacherToo() throws {
    let teacher = SmallModels.convNet()
    let student = try EarlyExit(after: ["conv_b"]).apply(to: teacher, selecting: .all).model
    let train = data(teacher)
    let before = divergence(teacher, student, train.images, output: 1)
    let result = try Distillation(teacher: teacher, alpha: 1, temperature: 2).fineTune(
      student, on: train,
      options: FineTuneOptions(epochs: 4, batchSize: 32, learningRate: 3e-3, outputWeights: [0, 1]))
    XCTAssertLessThan(divergence(teacher, result.model, train.images, output: 1), before)
    // Weight 0 on the main output: Keras-style, parameters only it reaches get no update.
    XCTAssertEqual(result.model.parameters["fc2", "kernel"], student.parameters["fc2", "kernel"])
  }

  /// Cosine (the default) decays from the peak to 0 over every step of the run; constant stays.
  func testScheduleSpansTheWholeRun() {
    let teacher = Distillation(teacher: SmallModels.convNet(), alpha: 0.7, temperature: 4)
    // 100 examples in batches of 32: 4 steps an epoch, 8 in two epochs.
    let cosine = FineTuneOptions(epochs: 2, batchSize: 32, learningRate: 3e-3)
      .trainConfig(distillation: teacher, examples: 100).schedule
    XCTAssertEqual(cosine.learningRate(at: 0), 3e-3)
    XCTAssertEqual(cosine.learningRate(at: 4), 1.5e-3, accuracy: 1e-9, "half way")
    XCTAssertLessThan(cosine.learningRate(at: 7), 1.5e-4)
    XCTAssertEqual(cosine.learningRate(at: 8), 0)
    let constant = FineTuneOptions(epochs: 2, batchSize: 32, learningRate: 3e-3, decay: .constant)
      .trainConfig(distillation: teacher, examples: 100).schedule
    XCTAssertEqual(constant.learningRate(at: 7), 3e-3)
  }

  func testExitWeightsKeepTheOriginalOutputsAtOneAndWeighOnlyTheExits() {
    XCTAssertEqual(
      FineTuneOptions.exitWeights(outputs: 3, originalOutputs: 1, exitWeight: 0.3), [1, 0.3, 0.3])
    XCTAssertEqual(FineTuneOptions.exitWeights(outputs: 3, originalOutputs: 2, exitWeight: 0), [1, 1, 0])
    XCTAssertNil(FineTuneOptions.exitWeights(outputs: 2, originalOutputs: 2, exitWeight: 0.3), "no exit")
  }

  func testLimitUsesTheFirstExamplesAndBadOptionsAreNamed() throws {
    let teacher = SmallModels.convNet()
    let train = data(teacher)
    let distillation = Distillation(teacher: teacher, alpha: 0.5, temperature: 4)
    let limited = try distillation.fineTune(
      teacher, on: train, options: FineTuneOptions(batchSize: 10, limit: 30))
    XCTAssertEqual(limited.position.globalStep, 3, "30 examples in batches of 10")
    XCTAssertThrowsError(try distillation.fineTune(teacher, on: train, options: FineTuneOptions(limit: 0))) {
      error in
      XCTAssertEqual((error as? AdaError)?.path, "finetune.limit")
    }
    XCTAssertThrowsError(
      try distillation.fineTune(teacher, on: train, options: FineTuneOptions(outputWeights: [1, 1]))
    ) { error in
      XCTAssertEqual((error as? AdaError)?.path, "finetune.outputWeights")
    }
    XCTAssertThrowsError(
      try Distillation(teacher: teacher, alpha: 2, temperature: 4).fineTune(teacher, on: train)
    ) { error in
      XCTAssertEqual((error as? AdaError)?.path, "train.distillation.alpha")
    }
  }
}
