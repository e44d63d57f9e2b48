import AdaNN
import AdaTensor
import TestSupport
import XCTest

@testable import AdaCompress

/// `GAPHead.fitHeads`: the least-squares start of a `gap-head` rewrite.
final class GAPHeadLeastSquaresTests: XCTestCase {
  func testRidgeRegressionRecoversAnExactLinearMap() {
    var g = SeededGenerator(seed: 5)
    let x = Tensor.uniform([200, 5], lo: -1, hi: 1, using: &g)
    let k = Tensor.uniform([5, 3], lo: -2, hi: 2, using: &g)
    let b = Tensor.uniform([3], lo: -1, hi: 1, using: &g)
    var y = Tensor(shape: [200, 3])
    for i in 0..<200 {
      for t in 0..<3 {
        var s = b.scalars[t]
        for p in 0..<5 { s += x.scalars[i * 5 + p] * k.scalars[p * 3 + t] }
        y.scalars[i * 3 + t] = s
      }
    }
    let fit = GAPHead.ridgeRegression(x, y, ridge: 1e-10)
    assertClose(fit.kernel, k, rtol: 1e-4, atol: 1e-4)
    assertClose(fit.bias, b, rtol: 1e-4, atol: 1e-4)
  }

  /// Teacher logits exactly linear in the pooled features (one Dense on spatially constant
  /// maps): the fit reproduces the teacher's probabilities, through the centred log-probabilities.
  func testALinearTeacherIsReproducedFromItsProbabilities() throws {
    var teacher = SmallModels.head(feature: [4, 3, 5], denses: [DenseSpec(units: 6, activation: .softmax)])
    // Confident probabilities: log p = z − logsumexp(z) is then far from linear in the features.
    teacher.parameters["d1", "kernel"]!.scalars = teacher.parameters["d1", "kernel"]!.scalars.map { $0 * 10 }
    var student = try GAPHead().apply(to: teacher, selecting: .all).model
    student.parameters["d1", "kernel"] = Tensor(shape: [5, 6])  // forget the composed start
    student.parameters["d1", "bias"] = Tensor(shape: [6])
    let x = constantMaps(n: 40, [4, 3, 5])
    let fitted = try GAPHead.fitHeads(of: student, teacher: teacher, inputs: x, ridge: 1e-9)
    assertClose(SmallModels.predict(fitted, x)[0], SmallModels.predict(teacher, x)[0], rtol: 1e-3, atol: 1e-4)
  }

  /// A relu head is not linear in the pooled features: least squares fits the teacher's logits
  /// closer than the composed-linear start, on the calibration batch.
  func testTheFitIsCloserToTheTeacherThanTheComposedStart() throws {
    let teacher = SmallModels.convNet()
    let composed = try GAPHead().apply(to: teacher, selecting: .all).model
    let x = SmallModels.inputs(256, [8, 8, 4])
    let fitted = try GAPHead.fitHeads(of: composed, teacher: teacher, inputs: x)
    let target = GAPHead.teacherLogits(SmallModels.predict(teacher, x)[0], softmax: true)
    func error(_ m: Model) -> Float {
      let z = GAPHead.teacherLogits(SmallModels.predict(m, x)[0], softmax: true)
      return zip(z.scalars, target.scalars).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    }
    XCTAssertLessThan(error(fitted), 0.5 * error(composed))
    XCTAssertEqual(fitted.parameters["fc2", "kernel"]?.shape, [32, 10])
    XCTAssertEqual(fitted.graph, composed.graph)
  }

  func testAKeptHiddenDenseIsFittedToTheTeachersPreActivation() throws {
    let teacher = SmallModels.convNet()
    let start = try GAPHead(keepHidden: true).apply(to: teacher, selecting: .all).model
    let x = SmallModels.inputs(256, [8, 8, 4])
    let fitted = try GAPHead.fitHeads(of: start, teacher: teacher, inputs: x)
    func linearFC1(_ m: Model) -> Tensor {
      var nodes = m.graph.nodes
      guard case .dense(var d) = nodes[m.graph.indexByName["fc1"]!].spec else { fatalError("fc1 is a Dense") }
      d.activation = .linear
      nodes[m.graph.indexByName["fc1"]!].spec = .dense(d)
      return SmallModels.predict(
        Model(graph: Graph(name: "p", nodes: nodes, outputs: ["fc1"]), parameters: m.parameters), x)[0]
    }
    let target = linearFC1(teacher)
    func error(_ m: Model) -> Float {
      zip(linearFC1(m).scalars, target.scalars).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    }
    XCTAssertLessThan(error(fitted), 0.5 * error(start))
    XCTAssertEqual(
      fitted.parameters["fc2", "kernel"], teacher.parameters["fc2", "kernel"], "the output layer stays")
  }

  func testHeadsThatTheTeacherAlsoReadsFromPooledFeaturesAreLeftAlone() throws {
    let teacher = SmallModels.convNet()
    let x = SmallModels.inputs(16, [8, 8, 4])
    XCTAssertEqual(
      try GAPHead.fitHeads(of: teacher, teacher: teacher, inputs: x).parameters, teacher.parameters)
    let composed = try GAPHead().apply(to: teacher, selecting: .all).model
    XCTAssertEqual(
      try GAPHead.fitHeads(of: composed, teacher: composed, inputs: x).parameters, composed.parameters)
  }

  /// `[n] + shape` maps constant over positions, different per example and channel.
  func constantMaps(n: Int, _ shape: [Int]) -> Tensor {
    var g = SeededGenerator(seed: 12)
    let c = shape[2]
    let values = Tensor.uniform([n, c], lo: -1, hi: 1, using: &g)
    var x = Tensor(shape: [n] + shape)
    let perExample = shape.elementCount
    for i in 0..<x.count { x.scalars[i] = values.scalars[(i / perExample) * c + i % c] }
    return x
  }
}
