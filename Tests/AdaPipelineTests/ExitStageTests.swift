import AdaBundle
import AdaCompress
import AdaIO
import AdaNN
import AdaProfile
import AdaRecipe
import AdaTensor
import AdaTrain
import Foundation
import TestSupport
import XCTest

@testable import AdaPipeline

/// The exits stage end to end on the small Fashion-MNIST CNN fixture with synthetic inputs
/// labelled by the model itself (tiny and fast).
final class ExitStageTests: XCTestCase {
  func profiling() -> ProfileOptions {
    var o = ProfileOptions(
      probe: ProbeConfig(budgetMs: 1, rounds: 2, warmupMs: 0.5, threads: 1), cacheDirectory: nil,
      version: "test")
    o.hostProbeBudgetMs = 2
    o.hostGemmSize = 32
    o.hostCopyBytes = 1 << 16
    return o
  }

  /// Random images whose labels are the model's own predictions, so the final output is right on all.
  func dataset(_ model: Model, n: Int, seed: UInt64) -> LabeledDataset {
    var g = SeededGenerator(seed: seed)
    let x = Tensor.uniform([n] + model.graph.inputShape, lo: 0, hi: 1, using: &g)
    let y = try! Executor(graph: model.graph).predict(x, parameters: model.parameters)[0].argmaxRows()
    return LabeledDataset(name: "synthetic", images: x, labels: y.map(Int32.init), classCount: 10)
  }

  func blocks(_ model: Model) -> [ExitStage.Block] {
    // Conv/Dense layers with the nodes after them, as the supernet names blocks.
    let names = model.graph.nodes.map(\.name)
    var out: [ExitStage.Block] = []
    for (i, node) in model.graph.nodes.enumerated() {
      switch node.spec {
      case .conv2D, .dense:
        let end =
          names[(i + 1)...].firstIndex { n in
            if case .conv2D = model.graph.node(named: n)!.spec { return true }
            if case .dense = model.graph.node(named: n)!.spec { return true }
            return false
          } ?? names.count
        out.append(ExitStage.Block(name: node.name, nodes: Array(names[i..<end].reversed())))
      default: break
      }
    }
    return out
  }

  func testStageBuildsCalibratesAndKeepsOnlyUsedExits() throws {
    let model = try KerasModelReader.load(path: Fixtures.path("keras/fmnist_cnn.h5"))
    var spec = Recipe.ExitsSpec()
    spec.head = .fixed(.grid(2))
    spec.training.epochs = 1
    spec.training.examples = 200
    spec.budgets = [0.5]
    let stage = ExitStage(spec: spec, recipeFile: "t.yaml", profiling: profiling(), log: .silent)
    let input = ExitStage.Input(
      id: "v01", model: model, bits: [:], blocks: blocks(model), train: dataset(model, n: 200, seed: 1),
      validation: dataset(model, n: 100, seed: 2), test: dataset(model, n: 60, seed: 3))
    let out = try stage.run(input)
    let plan = try XCTUnwrap(out.plan, "some operating point should use an exit")
    let multi = try XCTUnwrap(out.model)
    XCTAssertEqual(plan.file, "variants/v01_exits.h5")
    XCTAssertEqual(multi.graph.outputs.count, plan.exits.count + 1)
    XCTAssertEqual(multi.graph.outputs.dropLast(), ArraySlice(plan.exits.map(\.output)))
    XCTAssertEqual(multi.graph.outputs.last, model.graph.outputs[0])
    // The final output is the variant's, bit for bit.
    let x = try input.test.examples(at: Array(0..<8))
    XCTAssertEqual(
      try Executor(graph: multi.graph).predict(x, parameters: multi.parameters).last!.scalars,
      try Executor(graph: model.graph).predict(x, parameters: model.parameters)[0].scalars)
    let macs = try model.graph.costs().total.macs
    XCTAssertEqual(
      plan.operatingPoints.map(\.name), ["drop-0", "drop-0.5", "drop-1", "drop-2", "budget-0.5"])
    for p in plan.operatingPoints {
      XCTAssertEqual(p.thresholds.count, plan.exits.count)
      XCTAssertEqual(p.exitRates.count, plan.exits.count + 1)
      XCTAssertEqual(p.exitRates.reduce(0, +), 1, accuracy: 1e-9)
      XCTAssertLessThanOrEqual(p.expectedMacs, Double(macs) + 1e-6, p.name)
      // The final output is always right here, so every wrong answer is a swap.
      XCTAssertEqual(try XCTUnwrap(p.validationSwaps), 1 - p.validationAccuracy, accuracy: 1e-9, p.name)
    }
    // Labels are the final output's predictions: no drop allowed means every early leaver is right.
    XCTAssertEqual(plan.operatingPoints[0].validationAccuracy, 1)
    XCTAssertLessThanOrEqual(plan.operatingPoints[4].expectedMacs, 0.5 * Double(macs) + 1e-6)
    for (k, _) in plan.exits.enumerated() {
      XCTAssertTrue(plan.operatingPoints.contains { $0.thresholds[k] != nil }, "exit \(k) is used")
    }
    for (a, b) in zip(plan.exits, plan.exits.dropFirst()) { XCTAssertLessThan(a.macs, b.macs) }
    XCTAssertGreaterThan(plan.finalMacs, macs)
  }

  func testAFinishedVariantIsResumedFromTheWorkDirectory() throws {
    let model = try KerasModelReader.load(path: Fixtures.path("keras/fmnist_cnn.h5"))
    var spec = Recipe.ExitsSpec()
    spec.head = .fixed(.grid(2))
    spec.training.epochs = 1
    spec.training.examples = 100
    spec.accuracyDrops = [0.05]
    spec.budgets = []
    let scratch = Fixtures.temporaryDirectory("exit-stage-resume")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let work = try WorkDirectory(scratch.path, fresh: false)
    var lines: [String] = []
    let log = PipelineLog(write: { lines.append($0) }, trainingReporter: SilentReporter())
    let stage = ExitStage(spec: spec, recipeFile: "t.yaml", profiling: profiling(), log: log)
    let input = ExitStage.Input(
      id: "v01", model: model, bits: [:], blocks: blocks(model), train: dataset(model, n: 100, seed: 1),
      validation: dataset(model, n: 80, seed: 2), test: dataset(model, n: 40, seed: 3))
    let first = try stage.runResuming(input, quantized: [:], work: work)
    let plan = try XCTUnwrap(first.plan)
    XCTAssertFalse(lines.contains { $0.contains("resumed") })
    let second = try stage.runResuming(input, quantized: [:], work: work)
    XCTAssertTrue(lines.contains { $0.contains("v01: exits resumed") }, "\(lines)")
    XCTAssertEqual(second.plan, plan)
    let x = try input.test.examples(at: Array(0..<5))
    XCTAssertEqual(
      try Executor(graph: second.model!.graph).predict(x, parameters: second.model!.parameters).map(
        \.scalars),
      try Executor(graph: first.model!.graph).predict(x, parameters: first.model!.parameters).map(\.scalars))
  }

  func testAutoHeadKeepsTheCheapestWithinHalfAPointOfTheBest() {
    func trial(_ head: ExitHead, _ macs: Int, _ accuracy: Double) -> ExitStage.Trial {
      ExitStage.Trial(
        block: "b", node: "n", head: head, headMacs: macs, backboneMacs: 0, validationAccuracy: accuracy)
    }
    XCTAssertEqual(
      ExitStage.pick([trial(.gap, 10, 0.5), trial(.grid(2), 40, 0.80), trial(.grid(4), 160, 0.804)]), 1)
    XCTAssertEqual(
      ExitStage.pick([trial(.gap, 10, 0.5), trial(.grid(2), 40, 0.79), trial(.grid(4), 160, 0.80)]), 2)
  }

  func testVariantSelectionNamesUnknownIds() throws {
    XCTAssertThrowsError(
      try ExitStage.selected(.named(["v09"]), from: [], recipeFile: "t.yaml")
    ) { error in
      XCTAssertEqual((error as? AdaError)?.path, "exits.variants[0]")
    }
  }

  func testUnknownBlockIsALocatedError() throws {
    let model = try KerasModelReader.load(path: Fixtures.path("keras/fmnist_cnn.h5"))
    var spec = Recipe.ExitsSpec()
    spec.after = .named([blocks(model)[0].name, "nope"])
    let stage = ExitStage(spec: spec, recipeFile: "t.yaml", profiling: profiling(), log: .silent)
    let input = ExitStage.Input(
      id: "v01", model: model, bits: [:], blocks: blocks(model), train: dataset(model, n: 10, seed: 1),
      validation: dataset(model, n: 10, seed: 2), test: dataset(model, n: 10, seed: 3))
    XCTAssertThrowsError(try stage.run(input)) { error in
      let e = error as? AdaError
      XCTAssertEqual(e?.path, "exits.after[1]")
      XCTAssertTrue(e?.description.contains("no block named 'nope' in variant v01") ?? false, "\(error)")
    }
  }
}
