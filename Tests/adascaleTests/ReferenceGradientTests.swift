import AdaIO
import AdaNN
import AdaTensor
import AdaTrain
import TestSupport
import XCTest

/// adascale's own training step against an independent implementation: `grad/small_net.h5`,
/// computed by PyTorch and cross-checked with Keras 3 on JAX (tools/reference/README.md,
/// `make_grad_fixtures.py`). The net is built here as an adascale `Graph`, run by `Executor` in
/// training mode with `SoftmaxCrossEntropy`, and updated by AdaTrain's optimizers.
///
///     x [4, 8, 8, 2] → conv (4, 3×3, same) → bn (training, ε 1e-3, Keras momentum 0.9) → relu
///       → max-pool 2 → flatten → dense 5 (logits) → softmax cross-entropy, mean over the batch
///
/// Tolerances (style.md, "layer vs Keras"): 1e-4 relative to the tensor's largest element.
/// Documented exceptions (README, "`conv/bias` caveat"): the loss does not depend on `conv/bias`
/// (batch-norm subtracts the batch mean), so `grad/conv/bias` is float32 noise compared with
/// atol 1e-6, and Adam turns that noise into steps of up to ~lr/10: `adam*/conv/bias` to 2e-4
/// and, through the batch mean, `adam3/bn/movingMean` to 1e-4.
final class ReferenceGradientTests: XCTestCase {
  static let trainableKeys = [
    "conv/kernel", "conv/bias", "bn/gamma", "bn/beta", "dense/kernel", "dense/bias",
  ]
  static let movingKeys = ["bn/movingMean", "bn/movingVariance"]

  /// The fixture's net with node names equal to the fixture keys (`conv`, `bn`, `dense`).
  static func graph() -> Graph {
    let nodes = [
      Node(name: "input", spec: .input(InputSpec(shape: [8, 8, 2])), inputs: []),
      Node(
        name: "conv", spec: .conv2D(Conv2DSpec(filters: 4, kernel: .square(3), padding: .same)),
        inputs: ["input"]),
      Node(name: "bn", spec: .batchNorm(BatchNormSpec(epsilon: 1e-3, momentum: 0.9)), inputs: ["conv"]),
      Node(name: "relu", spec: .relu(ReLUSpec()), inputs: ["bn"]),
      Node(name: "pool", spec: .pool2D(Pool2DSpec(kind: .max, pool: .square(2))), inputs: ["relu"]),
      Node(name: "flatten", spec: .flatten, inputs: ["pool"]),
      Node(name: "dense", spec: .dense(DenseSpec(units: 5)), inputs: ["flatten"]),
    ]
    return Graph(name: "small_net", nodes: nodes, outputs: ["dense"])
  }

  /// The committed fixture, read with AdaIO.
  struct Fixture {
    let file: HDF5File
    let x: Tensor
    let labels: [Int32]
    let initial: Parameters

    init() throws {
      file = try HDF5File.open(Fixtures.path("grad/small_net.h5"))
      x = try file.root.dataset("x").readTensor()
      labels = try file.root.dataset("labels").read(Int32.self).values
      var p = Parameters()
      for key in ReferenceGradientTests.trainableKeys + ReferenceGradientTests.movingKeys {
        p.tensors[key] = try file.root.dataset(key).readTensor()
      }
      initial = p
    }

    func tensor(_ path: String) throws -> Tensor { try file.root.dataset(path).readTensor() }
  }

  /// One training step's forward and backward through `Executor`.
  struct Step {
    var loss: Float
    var logits: Tensor
    var gradients: Parameters
    var inputGradient: Tensor?
    /// The parameters after the training forward (moving statistics updated).
    var parameters: Parameters
  }

  func trainingStep(
    _ executor: Executor, _ parameters: Parameters, _ fixture: Fixture, inputGradient: Bool = false
  ) -> Step {
    var updated = parameters
    var context = ForwardContext(training: true, needsBackward: true)
    context.needsModelInputGradient = inputGradient
    let trace = executor.forward(fixture.x, parameters: &updated, context: &context)
    let (loss, dLogits) = SoftmaxCrossEntropy().evaluate(logits: trace.outputs[0], labels: fixture.labels)
    var gradients = Parameters()
    let gx = executor.backward(
      trace, outputGradients: [dLogits], parameters: parameters, gradients: &gradients)
    return Step(
      loss: loss, logits: trace.outputs[0], gradients: gradients, inputGradient: gx, parameters: updated)
  }

  /// `rtol` 1e-4 relative to scale, except the documented `conv/bias` cases.
  func assertParametersMatch(
    _ actual: Parameters, _ prefix: String, _ fixture: Fixture, keys: [String],
    atol: [String: Float] = [:], file: StaticString = #filePath, line: UInt = #line
  ) throws {
    for key in keys {
      let expected = try fixture.tensor("\(prefix)/\(key)")
      let a = atol[key] ?? 0
      assertClose(
        actual.tensors[key] ?? Tensor(shape: [0]), expected, rtol: a > 0 ? 0 : 1e-4, atol: a,
        "\(prefix)/\(key)", file: file, line: line)
    }
  }

  func testGraphHasTheFixturesTrainableParameters() throws {
    let graph = Self.graph()
    let shapes = try graph.inferShapes()
    XCTAssertEqual(shapes["flatten"], [64])
    XCTAssertEqual(shapes["dense"], [5])
    var trainable: [String] = []
    var all: [String] = []
    for node in graph.nodes {
      for spec in node.spec.makeLayer().parameters(for: node.inputs.compactMap { shapes[$0] }) {
        all.append(Parameters.key(node.name, spec.name))
        if spec.trainable { trainable.append(Parameters.key(node.name, spec.name)) }
      }
    }
    XCTAssertEqual(Set(trainable), Set(Self.trainableKeys))
    XCTAssertEqual(Set(all), Set(Self.trainableKeys + Self.movingKeys))
    let fixture = try Fixture()
    XCTAssertNoThrow(try Model(graph: graph, parameters: fixture.initial).validate())
  }

  func testLossLogitsAndGradientsMatchPyTorchAndKeras() throws {
    let fixture = try Fixture()
    let step = trainingStep(try Executor(graph: Self.graph()), fixture.initial, fixture)
    assertClose([step.loss], try fixture.tensor("loss").scalars, rtol: 1e-4, "loss")
    assertClose(step.logits, try fixture.tensor("logits"), rtol: 1e-4, "logits")
    try assertParametersMatch(
      step.gradients, "grad", fixture, keys: Self.trainableKeys, atol: ["conv/bias": 1e-6])
  }

  func testInputGradientMatchesPyTorchAndKeras() throws {
    let fixture = try Fixture()
    let step = trainingStep(try Executor(graph: Self.graph()), fixture.initial, fixture, inputGradient: true)
    let gx = try XCTUnwrap(step.inputGradient, "Executor.backward returned no input gradient")
    assertClose(gx, try fixture.tensor("grad_x"), rtol: 1e-4, "grad_x")
  }

  func testBatchNormMovingStatisticsAfterOneTrainingForward() throws {
    let fixture = try Fixture()
    let step = trainingStep(try Executor(graph: Self.graph()), fixture.initial, fixture)
    try assertParametersMatch(step.parameters, "after_forward", fixture, keys: Self.movingKeys)
    for key in Self.trainableKeys {
      XCTAssertEqual(
        step.parameters.tensors[key], fixture.initial.tensors[key], "forward must not touch \(key)")
    }
  }

  func testOneSGDMomentumStepMatchesKeras() throws {
    let fixture = try Fixture()
    let step = trainingStep(try Executor(graph: Self.graph()), fixture.initial, fixture)
    var optimizer = OptimizerConfig.sgd(momentum: 0.9, nesterov: false).makeOptimizer()
    var parameters = step.parameters
    optimizer.apply(
      gradients: step.gradients, to: &parameters, keys: Self.trainableKeys, learningRate: 0.1, weightDecay: 0)
    XCTAssertEqual(optimizer.state.iterations, 1)
    try assertParametersMatch(parameters, "sgd", fixture, keys: Self.trainableKeys)
  }

  func testOneAdamStepMatchesKeras() throws {
    let fixture = try Fixture()
    let step = trainingStep(try Executor(graph: Self.graph()), fixture.initial, fixture)
    var optimizer = OptimizerConfig.adam().makeOptimizer()
    var parameters = step.parameters
    optimizer.apply(
      gradients: step.gradients, to: &parameters, keys: Self.trainableKeys, learningRate: 1e-3, weightDecay: 0
    )
    try assertParametersMatch(
      parameters, "adam", fixture, keys: Self.trainableKeys, atol: ["conv/bias": 2e-4])
  }

  /// Three steps on the same batch, each with the gradient at the current weights; the moving
  /// statistics follow the three training forwards.
  func testThreeAdamStepsMatchKeras() throws {
    let fixture = try Fixture()
    let executor = try Executor(graph: Self.graph())
    var optimizer = OptimizerConfig.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-7).makeOptimizer()
    var parameters = fixture.initial
    for _ in 0..<3 {
      let step = trainingStep(executor, parameters, fixture)
      parameters = step.parameters
      optimizer.apply(
        gradients: step.gradients, to: &parameters, keys: Self.trainableKeys, learningRate: 1e-3,
        weightDecay: 0)
    }
    XCTAssertEqual(optimizer.state.iterations, 3)
    try assertParametersMatch(
      parameters, "adam3", fixture, keys: Self.trainableKeys + Self.movingKeys,
      atol: ["conv/bias": 2e-4, "bn/movingMean": 1e-4])
  }
}
