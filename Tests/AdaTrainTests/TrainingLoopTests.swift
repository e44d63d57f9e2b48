import AdaNN
import AdaTensor
import XCTest

@testable import AdaTrain

final class TrainingLoopTests: XCTestCase {
  private func address(_ t: Tensor?) -> UInt {
    t!.scalars.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
  }

  func testStepsUpdateParametersGradientsAndSlotsInPlace() throws {
    let model = TinyTask.mlp(batchNormAndDropout: true)
    let data = TinyTask.blobs(64, seed: 1)
    let config = TrainConfig(batchSize: 16, optimizer: .sgd(momentum: 0.9))
    var loop = TrainingLoop(
      setup: try FitSetup(config: config, model: model, dataset: data), config: config,
      objective: ClassificationObjective(), dataset: data, parameters: model.parameters)
    // The first step copies the weights once (the caller's model still shares them).
    _ = try loop.step(Array(0..<16)[...], learningRate: 0.1)
    // Trainable weights only: batch-norm's forward returns fresh [C] moving statistics each step.
    let keys = ["d1/kernel", "d1/bias", "d2/kernel", "bn/gamma", "bn/beta"]
    let params = keys.map { address(loop.parameters.tensors[$0]) }
    let grads = keys.map { address(loop.gradients.tensors[$0]) }
    let momentum = keys.map { address(loop.optimizer.state.slots["momentum"]!.tensors[$0]) }
    let kernel = loop.parameters.tensors["d1/kernel"]!.scalars.map { $0 }  // a copy, not a share
    _ = try loop.step(Array(16..<32)[...], learningRate: 0.1)
    XCTAssertNotEqual(loop.parameters.tensors["d1/kernel"]!.scalars, kernel, "the step changed the weights")
    XCTAssertEqual(
      keys.map { address(loop.parameters.tensors[$0]) }, params, "parameters are written in place")
    XCTAssertEqual(keys.map { address(loop.gradients.tensors[$0]) }, grads, "gradient buffers are reused")
    XCTAssertEqual(
      keys.map { address(loop.optimizer.state.slots["momentum"]!.tensors[$0]) }, momentum,
      "slots are updated in place")
  }
}
