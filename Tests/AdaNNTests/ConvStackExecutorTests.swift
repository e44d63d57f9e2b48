import AdaNN
import AdaTensor
import TestSupport
import XCTest

/// The four layers chained in a graph and run by `Executor`: caches survive the type erasure,
/// the first layer skips its input gradient, and every parameter gradient of the whole stack
/// matches finite differences of the network output.
final class ConvStackExecutorTests: XCTestCase {
  static let graph = Graph(
    name: "conv-stack",
    nodes: [
      Node(name: "input", spec: .input(InputSpec(shape: [6, 6, 2])), inputs: []),
      Node(
        name: "conv",
        spec: .conv2D(Conv2DSpec(filters: 3, kernel: .square(3), padding: .same, activation: .swish)),
        inputs: ["input"]),
      Node(
        name: "depthwise",
        spec: .depthwiseConv2D(
          DepthwiseConv2DSpec(kernel: .square(3), strides: .square(2), padding: .same, depthMultiplier: 2)),
        inputs: ["conv"]),
      Node(
        name: "separable",
        spec: .separableConv2D(SeparableConv2DSpec(filters: 3, kernel: .square(2), activation: .tanh)),
        inputs: ["depthwise"]),
      Node(name: "dense", spec: .dense(DenseSpec(units: 4, activation: .softmax)), inputs: ["separable"]),
    ],
    outputs: ["dense"])

  func testExecutorBackwardThroughConvStackMatchesFiniteDifferences() throws {
    let exec = try Executor(graph: Self.graph)
    XCTAssertEqual(exec.shapes.last, [2, 2, 4])
    var parameters = try Parameters.initialize(for: Self.graph, seed: 3)
    for key in parameters.keys where key.hasSuffix("bias") {
      parameters.tensors[key] = randomTensor(parameters.tensors[key]!.shape, seed: 4)
    }
    let x = randomTensor([2, 6, 6, 2], seed: 5)

    var context = ForwardContext(training: true, needsBackward: true)
    var forwardParameters = parameters
    let trace = exec.forward(x, parameters: &forwardParameters, context: &context)
    let probe = randomTensor(trace.outputs[0].shape, seed: 6)
    var gradients = Parameters()
    let inputGradient = exec.backward(
      trace, outputGradients: [probe], parameters: parameters, gradients: &gradients)
    XCTAssertNil(inputGradient, "the first layer reads the graph input: no input gradient")
    XCTAssertEqual(Set(gradients.keys), Set(parameters.keys))

    func loss(_ p: Parameters) -> Double {
      let y = exec.predict(x, parameters: p)[0]
      return zip(y.scalars, probe.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    let h = gradientCheckStep
    for key in parameters.keys {
      for i in 0..<parameters.tensors[key]!.count {
        var plus = parameters
        plus.tensors[key]!.scalars[i] += h
        var minus = parameters
        minus.tensors[key]!.scalars[i] -= h
        let numeric = Float((loss(plus) - loss(minus)) / Double(2 * h))
        let analytic = gradients.tensors[key]!.scalars[i]
        let rel = abs(analytic - numeric) / max(abs(analytic), abs(numeric), 1e-3)
        XCTAssertLessThan(rel, 1e-2, "\(key)[\(i)]: analytic \(analytic) vs numeric \(numeric)")
      }
    }
  }
}
