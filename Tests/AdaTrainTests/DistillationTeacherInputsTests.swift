import AdaNN
import AdaTensor
import TestSupport
import XCTest

@testable import AdaTrain

/// `Distillation.teacherInputs`: a teacher that reads its own view of each training example
/// (the source at its own resolution teaching a low-resolution student).
final class DistillationTeacherInputsTests: XCTestCase {
  /// The student's blobs, and the teacher's view of them: `[2x, noise]`, 8 features.
  private func pairedData() -> (student: LabeledDataset, teacher: LabeledDataset) {
    let data = TinyTask.blobs(96, seed: 21)
    var g = SeededGenerator(seed: 5)
    var wide: [Float] = []
    for i in 0..<data.count {
      wide += data.images.scalars[(i * 4)..<(i * 4 + 4)].map { 2 * $0 }
      wide += (0..<4).map { _ in g.nextNormal() }
    }
    return (
      data,
      LabeledDataset(
        name: "blobs-wide", images: Tensor(shape: [data.count, 8], scalars: wide), labels: data.labels,
        classCount: 3)
    )
  }

  /// `teacher` on 8 features: its first kernel halved on the first 4 (which hold 2x) and zero
  /// on the noise, so it computes exactly what `teacher` computes on x. With `scale` ≠ 0.5 it
  /// does not.
  private func widened(_ teacher: Model, scale: Float = 0.5) throws -> Model {
    var nodes = teacher.graph.nodes
    nodes[0].spec = .input(InputSpec(shape: [8]))
    let graph = Graph(name: "wide", nodes: nodes, outputs: teacher.graph.outputs)
    var parameters = teacher.parameters
    let k = teacher.parameters["d1", "kernel"]!  // [4, H]
    let h = k.shape[1]
    parameters["d1", "kernel"] = Tensor(
      shape: [8, h], scalars: k.scalars.map { scale * $0 } + [Float](repeating: 0, count: 4 * h))
    return Model(graph: graph, parameters: parameters)
  }

  private func distil(_ data: LabeledDataset, _ distillation: Distillation) throws -> Model {
    var config = TrainConfig(epochs: 2, batchSize: 16, schedule: .constant(0.01), seed: 4)
    config.distillation = distillation
    return try Trainer(config: config).fit(TinyTask.mlp(seed: 3, hidden: 8), on: data).model
  }

  func testTheTeacherReadsItsOwnViewOfTheSameExamples() throws {
    let (data, wide) = pairedData()
    let teacher = TinyTask.mlp(seed: 2)
    let reference = try distil(data, Distillation(teacher: teacher, alpha: 0.7, temperature: 2))
    let paired = try distil(
      data, Distillation(teacher: widened(teacher), alpha: 0.7, temperature: 2, teacherInputs: wide))
    for key in reference.parameters.keys {
      assertClose(paired.parameters.tensors[key]!, reference.parameters.tensors[key]!, rtol: 1e-5, key)
    }
    // The same run with a teacher that computes something else ends elsewhere: the comparison
    // above can fail.
    let other = try distil(
      data,
      Distillation(teacher: widened(teacher, scale: 1), alpha: 0.7, temperature: 2, teacherInputs: wide))
    let (a, b) = (other.parameters["d1", "kernel"]!.scalars, reference.parameters["d1", "kernel"]!.scalars)
    XCTAssertGreaterThan(zip(a, b).map { abs($0 - $1) }.max()!, 1e-4)
  }

  func testUnpairedTeacherInputsAreRefusedBeforeTraining() throws {
    let (data, wide) = pairedData()
    let teacher = try widened(TinyTask.mlp(seed: 2))
    let short = wide.subset(Array(0..<50))
    XCTAssertThrowsError(
      try distil(data, Distillation(teacher: teacher, alpha: 0.5, temperature: 2, teacherInputs: short))
    ) { e in
      XCTAssertEqual((e as? AdaError)?.path, "train.distillation.teacherInputs")
      XCTAssertTrue((e as? AdaError)?.message.contains("hold 50 examples") ?? false, "\(e)")
    }
    let shuffled = wide.subset(Array((0..<wide.count).reversed()))
    XCTAssertThrowsError(
      try distil(data, Distillation(teacher: teacher, alpha: 0.5, temperature: 2, teacherInputs: shuffled))
    ) { e in
      XCTAssertEqual((e as? AdaError)?.path, "train.distillation.teacherInputs/labels[0]")
    }
    let paired = Distillation(teacher: teacher, alpha: 0.5, temperature: 2, teacherInputs: wide)
    XCTAssertNoThrow(try paired.checkTeacherInputs(pairedWith: data, augmented: false))
    XCTAssertThrowsError(try paired.checkTeacherInputs(pairedWith: data, augmented: true)) { e in
      XCTAssertEqual((e as? AdaError)?.path, "train.augmentation")
      XCTAssertTrue((e as? AdaError)?.message.contains("teacher") ?? false, "\(e)")
    }
    // The teacher must take its inputs' shape, not the student's.
    XCTAssertThrowsError(
      try distil(
        data, Distillation(teacher: TinyTask.mlp(seed: 2), alpha: 0.5, temperature: 2, teacherInputs: wide))
    ) { e in
      XCTAssertEqual((e as? AdaError)?.kind, .badShape)
    }
  }
}
