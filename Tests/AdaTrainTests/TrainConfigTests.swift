import AdaNN
import AdaTensor
import XCTest

@testable import AdaTrain

final class TrainConfigTests: XCTestCase {
  private let model = Model(
    graph: Graph(
      name: "id", nodes: [Node(name: "in", spec: .input(InputSpec(shape: [3])), inputs: [])], outputs: ["in"]),
    parameters: Parameters())
  private let data = LabeledDataset(
    name: "toy", images: Tensor(shape: [4, 3], scalars: (0..<12).map(Float.init)), labels: [0, 1, 2, 0],
    classCount: 3)

  func testHashIsStableAcrossCallsAndIgnoresEpochsAndCheckpointSettings() {
    let base = TrainConfig(epochs: 2, batchSize: 8, seed: 1)
    var other = base
    other.epochs = 10
    other.checkpointDirectory = "/tmp/somewhere"
    other.checkpointEverySteps = 5
    other.resume = true
    XCTAssertEqual(base.configHash(model: model, dataset: data), base.configHash(model: model, dataset: data))
    XCTAssertEqual(
      base.configHash(model: model, dataset: data), other.configHash(model: model, dataset: data))
    XCTAssertEqual(base.configHash(model: model, dataset: data).count, 16)
  }

  func testHashChangesWithAnythingThatChangesTheTrajectory() {
    let base = TrainConfig(epochs: 2, batchSize: 8, seed: 1)
    let h = base.configHash(model: model, dataset: data)
    var variants: [TrainConfig] = []
    var c = base
    c.seed = 2
    variants.append(c)
    c = base
    c.batchSize = 4
    variants.append(c)
    c = base
    c.optimizer = .sgd(momentum: 0.9)
    variants.append(c)
    c = base
    c.schedule = .constant(0.002)
    variants.append(c)
    c = base
    c.weightDecay = 1e-4
    variants.append(c)
    c = base
    c.validationFraction = 0.25
    variants.append(c)
    c = base
    c.augmentation.horizontalFlip = true
    variants.append(c)
    for v in variants { XCTAssertNotEqual(v.configHash(model: model, dataset: data), h, "\(v)") }
    var changed = data.images
    changed.scalars[5] += 1
    var otherData = LabeledDataset(
      name: data.name, images: changed, labels: data.labels, classCount: data.classCount)
    XCTAssertNotEqual(base.configHash(model: model, dataset: otherData), h, "dataset contents count")
    otherData = data
    otherData.labels[0] = 2
    XCTAssertNotEqual(base.configHash(model: model, dataset: otherData), h, "labels count")
  }

  func testInvalidFieldsAreNamed() {
    func path(_ change: (inout TrainConfig) -> Void) -> String? {
      var c = TrainConfig()
      change(&c)
      do {
        try c.validate()
        return nil
      } catch {
        return error.path
      }
    }
    XCTAssertNil(path { _ in })
    XCTAssertEqual(path { $0.epochs = 0 }, "train.epochs")
    XCTAssertEqual(path { $0.batchSize = 0 }, "train.batchSize")
    XCTAssertEqual(path { $0.validationFraction = 1 }, "train.validationFraction")
    XCTAssertEqual(path { $0.resume = true }, "train.resume")
    XCTAssertEqual(path { $0.checkpointEverySteps = 0 }, "train.checkpointEverySteps")
    XCTAssertEqual(path { $0.optimizer = .sgd(momentum: -1) }, "train.optimizer.momentum")
    XCTAssertEqual(
      path { $0.distillation = Distillation(teacher: self.model, alpha: 2, temperature: 1) },
      "train.distillation.alpha")
  }
}
