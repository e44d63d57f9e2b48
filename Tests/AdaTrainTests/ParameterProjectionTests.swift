import AdaNN
import AdaTensor
import TestSupport
import XCTest

@testable import AdaTrain

final class ParameterProjectionTests: XCTestCase {
  /// Rounds every element to a multiple of 0.25: a coarse grid that changes the network's output.
  let grid = ParameterProjection(["d1/kernel": { w in w.map { ($0 * 4).rounded() / 4 } }])

  private func loop(_ config: TrainConfig, _ model: Model, _ data: LabeledDataset) throws -> TrainingLoop {
    TrainingLoop(
      setup: try FitSetup(config: config, model: model, dataset: data), config: config,
      objective: ClassificationObjective(), dataset: data, parameters: model.parameters)
  }

  func testAStepUsesTheGradientAtTheProjectionAndAppliesItToTheShadowWeights() throws {
    let model = TinyTask.mlp()
    let data = TinyTask.blobs(32, seed: 3)
    var config = TrainConfig(batchSize: 32, optimizer: .sgd())
    config.parameterProjection = grid
    var projected = try loop(config, model, data)
    _ = try projected.step(Array(0..<32)[...], learningRate: 0.5)

    // The same step, without a projection, from the projected weights: same gradient.
    let onGrid = Model(graph: model.graph, parameters: grid.projecting(model.parameters))
    var plain = try loop(TrainConfig(batchSize: 32, optimizer: .sgd()), onGrid, data)
    _ = try plain.step(Array(0..<32)[...], learningRate: 0.5)

    let w0 = model.parameters.tensors["d1/kernel"]!
    let p0 = onGrid.parameters.tensors["d1/kernel"]!
    XCTAssertNotEqual(w0, p0, "the grid moves the weights")
    // Straight-through: shadow − w0 = −lr·g(P(w0)) = plain − P(w0).
    let shadowStep = zip(projected.parameters.tensors["d1/kernel"]!.scalars, w0.scalars).map { $0 - $1 }
    let plainStep = zip(plain.parameters.tensors["d1/kernel"]!.scalars, p0.scalars).map { $0 - $1 }
    XCTAssertTrue(plainStep.contains { $0 != 0 }, "the step changed the weights")
    assertClose(shadowStep, plainStep, rtol: 1e-4, atol: 1e-6)
    // The shadow is not on the grid; unprojected weights see the same gradient and step.
    XCTAssertNotEqual(
      projected.parameters.tensors["d1/kernel"]!, grid.projecting(projected.parameters).tensors["d1/kernel"]!)
    for key in ["d1/bias", "d2/kernel", "d2/bias"] {
      assertClose(
        projected.parameters.tensors[key]!, plain.parameters.tensors[key]!, rtol: 1e-5, atol: 1e-7, key)
    }
  }

  func testFitReturnsProjectedWeightsAndHashesTheProjectedKeys() throws {
    let model = TinyTask.mlp()
    let data = TinyTask.blobs(64, seed: 4)
    var config = TrainConfig(epochs: 2, batchSize: 16)
    let unprojectedHash = config.configHash(model: model, dataset: data)
    config.parameterProjection = grid
    XCTAssertNotEqual(config.configHash(model: model, dataset: data), unprojectedHash)
    let trained = try Trainer(config: config).fit(model, on: data).model
    let kernel = trained.parameters.tensors["d1/kernel"]!
    XCTAssertEqual(kernel, grid.projecting(trained.parameters).tensors["d1/kernel"]!, "on the grid")
    XCTAssertNotEqual(kernel, grid.projecting(model.parameters).tensors["d1/kernel"]!, "and trained")
    XCTAssertNotEqual(trained.parameters.tensors["d2/kernel"]!, model.parameters.tensors["d2/kernel"]!)
  }
}
