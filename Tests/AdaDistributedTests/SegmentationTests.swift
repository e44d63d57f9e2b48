import AdaDistributed
import AdaNN
import AdaTensor
import XCTest

final class SegmentationTests: XCTestCase {
  let model = MDIModels.model()

  func testCrossingSetsFollowResidualConnections() throws {
    let cuts = try CutPoint.all(in: model.graph)
    let byName = Dictionary(uniqueKeysWithValues: cuts.map { ($0.after, $0) })
    // Inside the first residual unit the shortcut crosses with the branch.
    XCTAssertEqual(byName["b1_bn"]?.crossing, ["stem_relu", "b1_bn"])
    XCTAssertEqual(byName["b1_bn"]?.shapes, [[8, 8, 8], [8, 8, 8]])
    // After the unit only its output crosses.
    XCTAssertEqual(byName["relu1"]?.crossing, ["relu1"])
    XCTAssertEqual(byName["relu1"]?.scalarsPerExample, 512)
    // Inside the exit head: the head's pooled features and the backbone both cross.
    XCTAssertEqual(byName["exit1_gap"]?.crossing, ["relu1", "exit1_gap"])
    XCTAssertEqual(byName["exit1_gap"]?.onBackbone, false)
    // After the exit (its output is emitted, not sent) the backbone alone crosses.
    XCTAssertEqual(byName["exit1"]?.crossing, ["relu1"])
    XCTAssertEqual(byName["exit1"]?.isValid(maxTensors: 1), true)
    XCTAssertEqual(byName["b1_bn"]?.isValid(maxTensors: 1), false)
    XCTAssertEqual(byName["b1_bn"]?.isValid(maxTensors: 2), true)
  }

  func testSegmentsInSequenceEqualTheWholeGraphBitForBit() throws {
    let x = MDIModels.input(batch: 5)
    let whole = try Executor(graph: model.graph).predict(x, parameters: model.parameters)
    let positions = try CutPoint.all(in: model.graph).map(\.position)
    // Every single cut, every pair of cuts, and no cut at all.
    var splits: [[Int]] = [[]] + positions.map { [$0] }
    for a in positions { for b in positions where b > a { splits.append([a, b]) } }
    for cuts in splits {
      let chain = try SegmentChain(graph: model.graph, cuts: cuts)
      let outs = try chain.predict(x, parameters: model.parameters)
      XCTAssertEqual(outs.count, whole.count)
      for (o, (a, b)) in zip(outs, whole).enumerated() {
        XCTAssertEqual(a.shape, b.shape)
        if a.scalars != b.scalars {
          let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()!
          XCTFail("cuts \(cuts), output \(model.graph.outputs[o]): worst |Δ| \(worst)")
        }
      }
    }
  }

  func testSegmentsHoldTheirExitsAndOnlyTheirWeights() throws {
    let cuts = try CutPoint.all(in: model.graph)
    let afterExit1 = cuts.first { $0.after == "exit1" }!.position
    let afterExit2 = cuts.first { $0.after == "exit2" }!.position
    let chain = try SegmentChain(graph: model.graph, cuts: [afterExit1, afterExit2])
    XCTAssertEqual(chain.segments.map(\.outputs), [["exit1"], ["exit2"], ["out"]])
    XCTAssertEqual(chain.segments.map(\.outputIndices), [[0], [1], [2]])
    XCTAssertEqual(chain.segments.map(\.inputs), [[], ["relu1"], ["add3"]])
    XCTAssertEqual(chain.segments.map(\.sends), [["relu1"], ["add3"], []])
    let p1 = chain.segments[1].parameters(from: model.parameters)
    XCTAssertEqual(Set(p1.keys.map { String($0.split(separator: "/")[0]) }), ["b2", "b3", "exit2"])
    let total = chain.segments.map { $0.parameters(from: model.parameters).tensors.count }.reduce(0, +)
    XCTAssertEqual(total, model.parameters.tensors.count)
  }

  func testReorderingPutsEachExitHeadRightAfterTheBackboneItNeeds() throws {
    // Heads listed after the whole backbone, as a multi-exit file may list them.
    var late = model.graph
    let heads = late.nodes.filter { $0.name.hasPrefix("exit") }
    late.nodes.removeAll { $0.name.hasPrefix("exit") }
    late.nodes.insert(contentsOf: heads, at: late.nodes.count - 1)
    XCTAssertFalse(try CutPoint.all(in: late).contains { $0.after == "exit1" && $0.crossing == ["relu1"] })
    let ordered = late.orderedForEarlyOutputs()
    XCTAssertEqual(ordered.nodes.map(\.name), model.graph.nodes.map(\.name))
    XCTAssertTrue(try CutPoint.all(in: ordered).contains { $0.after == "exit1" && $0.crossing == ["relu1"] })
    let x = MDIModels.input(batch: 3)
    let a = try Executor(graph: late).predict(x, parameters: model.parameters)
    let b = try Executor(graph: ordered).predict(x, parameters: model.parameters)
    XCTAssertTrue(zip(a, b).allSatisfy { $0.scalars == $1.scalars })
  }

  func testBadCutsAndBadReceivedTensorsAreRejected() throws {
    XCTAssertThrowsError(try SegmentChain(graph: model.graph, cuts: [5, 3]))
    XCTAssertThrowsError(try SegmentChain(graph: model.graph, cuts: [model.graph.nodes.count - 1]))
    let chain = try SegmentChain(graph: model.graph, cuts: [7])
    let runner = try SegmentRunner(segment: chain.segments[1], graph: model.graph)
    XCTAssertThrowsError(try runner.check(input: nil, received: [:])) { error in
      XCTAssertTrue("\(error)".contains("relu1"), "\(error)")
    }
    XCTAssertThrowsError(try runner.check(input: nil, received: ["relu1": Tensor(shape: [2, 4, 4, 8])]))
    XCTAssertNoThrow(try runner.check(input: nil, received: ["relu1": Tensor(shape: [2, 8, 8, 8])]))
  }

  /// The chain's exit rule (first exit whose confidence reaches its threshold, decided at the end
  /// of the segment holding it) gives the same answer as main's per-input `ExitExecutor`,
  /// wherever the cuts fall: computing more of a segment does not change an exit's output.
  func testChainsAnswerLikeTheExitExecutorWhereverTheCuts() throws {
    let x = MDIModels.input(batch: 12, seed: 31)
    let graph = model.graph
    let outs = try Executor(graph: graph).predict(x, parameters: model.parameters)
    let thresholds: [Float?] = (0..<2).map { j in
      let c = ExitConfidence.maxSoftmax.scores(outs[j], isProbability: true).sorted()
      return c[c.count / 2]
    }
    let exec = try ExitExecutor(graph: graph, exits: ["exit1", "exit2"], confidence: .maxSoftmax)
    let expected = try (0..<12).map { i in
      try exec.predict(x.slice(batch: i..<(i + 1)), parameters: model.parameters, thresholds: thresholds)
    }
    XCTAssertEqual(Set(expected.map { $0.exitIndices[0] }), [0, 1, 2])
    let rules = ExitRules(
      confidence: .maxSoftmax, thresholds: thresholds + [nil], isProbability: [true, true, true])
    let positions = try CutPoint.all(in: graph).filter { $0.isValid(maxTensors: 2) }.map(\.position)
    for a in positions {
      for b in positions where b > a {
        let d = MDIDeployment(
          chain: try SegmentChain(graph: graph, cuts: [a, b]), model: model, rules: rules)
        let answers = try MDILocal.run(d, inputs: x)
        for (i, (got, want)) in zip(answers, expected).enumerated() {
          XCTAssertEqual(got.outputIndex, want.exitIndices[0], "cuts \([a, b]), input \(i)")
          XCTAssertEqual(got.output.scalars, want.output.scalars, "cuts \([a, b]), input \(i)")
        }
      }
    }
  }
}
