import AdaTensor
import TestSupport
import XCTest

@testable import AdaNN

/// `ExitExecutor` against the plain `Executor` on the same multi-exit graph: the exit each input
/// takes and the row it gets back are what the full model's outputs and the thresholds say,
/// exactly; what leaves is not run further; disabled heads do not run; it holds and allocates no
/// more activation bytes than the plain pass.
final class ExitExecutorTests: XCTestCase {
  /// A tiny conv net with two exits, shallowest first, then the final output:
  ///
  ///     input [6, 6, 2] → c1 → c1b ─┬─ gap → e0                              (exit 0)
  ///                        └──────── add(c1, c1b) → c2 (stride 2) ─┬─ gap → dense → e1   (exit 1)
  ///                                                                └─ c3 → gap → final
  ///
  /// `c1` and `c1b` are both live when exit 0 is decided, so two activations are compacted.
  static func graph(softmax: Bool = true) -> Graph {
    let last: Activation = softmax ? .softmax : .linear
    func conv(_ f: Int, stride: Int = 1) -> LayerSpec {
      .conv2D(
        Conv2DSpec(
          filters: f, kernel: .square(3), strides: .square(stride), padding: .same, activation: .relu))
    }
    let gap = LayerSpec.globalPool2D(GlobalPool2DSpec(kind: .average))
    return Graph(
      name: "exits",
      nodes: [
        Node(name: "input", spec: .input(InputSpec(shape: [6, 6, 2])), inputs: []),
        Node(name: "c1", spec: conv(4), inputs: ["input"]),
        Node(name: "c1b", spec: conv(4), inputs: ["c1"]),
        Node(name: "e0_gap", spec: gap, inputs: ["c1b"]),
        Node(name: "e0", spec: .dense(DenseSpec(units: 3, activation: last)), inputs: ["e0_gap"]),
        Node(name: "a1", spec: .add, inputs: ["c1", "c1b"]),
        Node(name: "c2", spec: conv(6, stride: 2), inputs: ["a1"]),
        Node(name: "e1_gap", spec: gap, inputs: ["c2"]),
        Node(name: "e1_hidden", spec: .dense(DenseSpec(units: 5, activation: .relu)), inputs: ["e1_gap"]),
        Node(name: "e1", spec: .dense(DenseSpec(units: 3, activation: last)), inputs: ["e1_hidden"]),
        Node(name: "c3", spec: conv(6), inputs: ["c2"]),
        Node(name: "gap", spec: gap, inputs: ["c3"]),
        Node(name: "final", spec: .dense(DenseSpec(units: 3, activation: last)), inputs: ["gap"]),
      ],
      outputs: ["e0", "e1", "final"])
  }

  static let exits = ["e0", "e1"]

  /// Weights and biases drawn N(0, 0.6) so that confidences spread over the batch.
  static func parameters(_ graph: Graph, seed: UInt64) throws -> Parameters {
    var p = try Parameters.initialize(for: graph, seed: seed)
    var g = SeededGenerator(seed: seed &+ 100)
    for key in p.keys { p.tensors[key] = Tensor.normal(p.tensors[key]!.shape, std: 0.6, using: &g) }
    return p
  }

  static func input(_ n: Int, seed: UInt64) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.uniform([n, 6, 6, 2], lo: -1, hi: 1, using: &g)
  }

  /// The offline rule on the full model's outputs: the first enabled exit whose confidence
  /// reaches its threshold, else the final output (index = exit count).
  static func reference(
    _ outputs: [Tensor], thresholds: [Float?], confidence: ExitConfidence, isProbability: Bool
  ) -> (exits: [Int], rows: [[Float]]) {
    let n = outputs[0].shape[0]
    let c = outputs[0].shape[1]
    let scores = outputs.dropLast().map { confidence.scores($0, isProbability: isProbability) }
    var exits: [Int] = []
    var rows: [[Float]] = []
    for i in 0..<n {
      let k = thresholds.indices.first { k in thresholds[k].map { scores[k][i] >= $0 } ?? false }
      let e = k ?? thresholds.count
      exits.append(e)
      rows.append(Array(outputs[e].scalars[(i * c)..<((i + 1) * c)]))
    }
    return (exits, rows)
  }

  // MARK: (a) the exits taken and the rows returned equal the offline rule

  /// Exact: thresholds are confidences inputs actually have (a tie must leave), and every row
  /// must be bit-equal to the full model's. Conv2D runs its direct kernel here: its GEMM path
  /// is not batch-invariant in the last bit (OpenBLAS computes a row among 144 rows and among
  /// 45 differently, 1–4 ulp; the next test covers that path). Dense and the loops are.
  func testExitsAndOutputsEqualTheOfflineRuleOnTheFullModelOutputsExactly() throws {
    try Conv2DLayer.$useDirectKernel.withValue(true) {
      for (softmax, confidence) in [(true, ExitConfidence.maxSoftmax), (false, .entropy), (true, .entropy)] {
        try checkAgainstOfflineRule(softmax: softmax, confidence: confidence, exact: true)
      }
    }
  }

  /// The shipped path (Conv2D by im2col + GEMM): thresholds halfway between two inputs'
  /// confidences, so a last-bit difference cannot move an input across one; exits exactly,
  /// rows to rtol 1e-5.
  func testExitsEqualTheOfflineRuleAndRowsAgreeToRoundingOnTheGEMMPath() throws {
    try Conv2DLayer.$useDirectKernel.withValue(false) {
      try checkAgainstOfflineRule(softmax: true, confidence: .maxSoftmax, exact: false)
    }
  }

  func checkAgainstOfflineRule(softmax: Bool, confidence: ExitConfidence, exact: Bool) throws {
    let graph = Self.graph(softmax: softmax)
    let exec = try ExitExecutor(graph: graph, exits: Self.exits, confidence: confidence)
    XCTAssertEqual(exec.exitIsProbability, [softmax, softmax])
    let plain = try Executor(graph: graph)
    var g = SeededGenerator(seed: 77)
    var histogram = [0, 0, 0]
    for trial in 0..<12 {
      let p = try Self.parameters(graph, seed: UInt64(trial + 1))
      let x = Self.input(16, seed: UInt64(100 + trial))
      let full = plain.predict(x, parameters: p)
      // Thresholds: a confidence some input has (exact), or halfway to the next (not), or off.
      let scores = full.dropLast().map { confidence.scores($0, isProbability: softmax).sorted() }
      let thresholds: [Float?] = scores.map { s in
        let i = Int(g.nextUniform() * Float(s.count - 1)) % (s.count - 1)
        return g.nextUniform() < 0.2 ? nil : exact ? s[i] : (s[i] + s[i + 1]) / 2
      }
      let r = try exec.predict(x, parameters: p, thresholds: thresholds)
      let want = Self.reference(full, thresholds: thresholds, confidence: confidence, isProbability: softmax)
      XCTAssertEqual(r.exitIndices, want.exits, "trial \(trial), thresholds \(thresholds)")
      XCTAssertEqual(r.output.shape, [16, 3])
      for i in 0..<16 {
        let got = Array(r.output.scalars[(i * 3)..<(i * 3 + 3)])
        if exact {
          XCTAssertEqual(got, want.rows[i], "trial \(trial) input \(i) (exit \(want.exits[i]))")
        } else {
          assertClose(
            Tensor(shape: [3], scalars: got), Tensor(shape: [3], scalars: want.rows[i]), rtol: 1e-5,
            atol: 1e-6,
            "trial \(trial) input \(i)")
        }
      }
      for (k, count) in r.histogram.enumerated() { histogram[k] += count }
    }
    XCTAssertTrue(histogram.allSatisfy { $0 > 0 }, "every exit and the final output taken: \(histogram)")
  }

  // MARK: (b) what leaves is not run further; disabled heads do not run

  func testAnInputThatLeavesIsNotRunFurtherAndDisabledHeadsDoNotRun() throws {
    let graph = Self.graph()
    let exec = try ExitExecutor(graph: graph, exits: Self.exits, confidence: .maxSoftmax)
    let p = try Self.parameters(graph, seed: 5)
    let x = Self.input(20, seed: 6)
    let full = try Executor(graph: graph).predict(x, parameters: p)
    let s0 = ExitConfidence.maxSoftmax.scores(full[0], isProbability: true).sorted()
    let s1 = ExitConfidence.maxSoftmax.scores(full[1], isProbability: true).sorted()
    let r = try exec.predict(x, parameters: p, thresholds: [s0[14], s1[10]])
    let h = r.histogram
    XCTAssertEqual(h[0], 6, "the 6 most confident at exit 0 leave there")
    XCTAssertGreaterThan(h[1], 0)
    XCTAssertGreaterThan(h[2], 0)
    func rows(_ name: String) -> Int { r.rowsRun[graph.indexByName[name]!] }
    for name in ["input", "c1", "c1b", "e0_gap", "e0"] { XCTAssertEqual(rows(name), 20, name) }
    for name in ["a1", "c2", "e1_gap", "e1_hidden", "e1"] { XCTAssertEqual(rows(name), 20 - h[0], name) }
    for name in ["c3", "gap", "final"] { XCTAssertEqual(rows(name), h[2], name) }

    // Exit 1 disabled: its head never runs, and the final output takes everyone left at exit 0.
    let off = try exec.predict(x, parameters: p, thresholds: [s0[14], nil])
    XCTAssertEqual(off.histogram, [6, 0, 14])
    for name in ["e1_gap", "e1_hidden", "e1"] {
      XCTAssertEqual(off.rowsRun[graph.indexByName[name]!], 0, name)
    }
    XCTAssertEqual(off.rowsRun[graph.indexByName["c3"]!], 14)

    // Threshold 0: everyone leaves at the first exit; nothing past it runs.
    let all = try exec.predict(x, parameters: p, thresholds: [0, 0])
    XCTAssertEqual(all.histogram, [20, 0, 0])
    XCTAssertEqual(all.output, full[0])
    for name in ["a1", "c2", "e1", "c3", "final"] {
      XCTAssertEqual(all.rowsRun[graph.indexByName[name]!], 0, name)
    }

    // No exit enabled: the final output alone, as the plain pass computes it; no head runs.
    let none = try exec.predict(x, parameters: p, thresholds: [nil, nil])
    XCTAssertEqual(none.output, full[2])
    XCTAssertEqual(none.histogram, [0, 0, 20])
    for name in ["e0_gap", "e0", "e1_gap", "e1"] {
      XCTAssertEqual(none.rowsRun[graph.indexByName[name]!], 0, name)
    }
  }

  // MARK: (c) activation bytes

  /// Against the plain pass of the multi-exit model (every head, every row): never more. Against
  /// the static model (the final output's nodes only): equal with no exit used, less when many
  /// leave early; when few leave, the heads' rows and the result buffer (held from the first
  /// exit on) can make it more (thresholds [1, 1] here: peak +384 B = 32 × 3 floats).

  func testPerInputPathHoldsAndAllocatesNoMoreActivationBytesThanThePlainPass() throws {
    let graph = Self.graph()
    let exec = try ExitExecutor(graph: graph, exits: Self.exits, confidence: .maxSoftmax)
    let p = try Self.parameters(graph, seed: 8)
    let x = Self.input(32, seed: 9)
    var plainMeter = ActivationMeter()
    let full = try Executor(graph: graph).predict(x, parameters: p, meter: &plainMeter)
    XCTAssertEqual(full, try Executor(graph: graph).predict(x, parameters: p), "the meter changes nothing")
    XCTAssertEqual(plainMeter.liveBytes, 3 * 32 * 3 * 4, "only the three outputs are left")
    // The variant without exits (the single-exit model): the final output's nodes only.
    var staticMeter = ActivationMeter()
    _ = try Executor(graph: graph.keepingOnly(outputs: ["final"])).predict(
      x, parameters: p, meter: &staticMeter)
    let s0 = ExitConfidence.maxSoftmax.scores(full[0], isProbability: true).sorted()
    let s1 = ExitConfidence.maxSoftmax.scores(full[1], isProbability: true).sorted()
    let cases: [[Float?]] = [
      [s0[16], s1[16]], [s0[31], s1[31]], [nil, s1[8]], [nil, nil], [1, 1], [0, 0],
    ]
    for thresholds in cases {
      var meter = ActivationMeter()
      let r = try exec.predict(x, parameters: p, thresholds: thresholds, meter: &meter)
      print(
        "exits \(thresholds) → \(r.histogram): peak \(meter.peakBytes) B (plain \(plainMeter.peakBytes), "
          + "static \(staticMeter.peakBytes)), total \(meter.totalBytes) B (plain \(plainMeter.totalBytes), "
          + "static \(staticMeter.totalBytes))")
      if thresholds == [nil, nil] {
        XCTAssertEqual(meter.peakBytes, staticMeter.peakBytes, "no exit used: the static model's pass")
        XCTAssertEqual(meter.totalBytes, staticMeter.totalBytes, "no exit used: the static model's pass")
      }
      if r.histogram[0] >= 16 {  // half or more leave at exit 0: less than the static model too
        XCTAssertLessThanOrEqual(meter.peakBytes, staticMeter.peakBytes, "peak, thresholds \(thresholds)")
        XCTAssertLessThan(meter.totalBytes, staticMeter.totalBytes, "total, thresholds \(thresholds)")
      }
      XCTAssertLessThanOrEqual(meter.peakBytes, plainMeter.peakBytes, "peak, thresholds \(thresholds)")
      XCTAssertLessThanOrEqual(meter.totalBytes, plainMeter.totalBytes, "total, thresholds \(thresholds)")
      XCTAssertEqual(meter.liveBytes, 32 * 3 * 4, "only the result is left, thresholds \(thresholds)")
      // Every byte accounted for: each node's output once, at the rows it ran on (the result
      // reuses the first exit's buffer, compaction happens in place).
      let rowBytes = exec.executor.shapes.map { $0.elementCount * 4 }
      let expected = zip(r.rowsRun, rowBytes).reduce(0) { $0 + $1.0 * $1.1 }
      XCTAssertEqual(meter.totalBytes, expected, "thresholds \(thresholds)")
    }
    XCTAssertEqual(plainMeter.totalBytes, exec.executor.shapes.reduce(0) { $0 + 32 * $1.elementCount * 4 })
  }

  // MARK: (d) errors

  func testThresholdsOutsideTheUnitIntervalOrOfTheWrongCountAreErrors() throws {
    let graph = Self.graph()
    let exec = try ExitExecutor(graph: graph, exits: Self.exits, confidence: .maxSoftmax)
    let p = try Self.parameters(graph, seed: 1)
    let x = Self.input(2, seed: 1)
    let cases: [([Float?], AdaError.Kind, String)] = [
      ([0.5], .invalidValue, "thresholds"),
      ([0.5, nil, 0.5], .invalidValue, "thresholds"),
      ([1.5, nil], .invalidValue, "thresholds[0]"),
      ([nil, -0.1], .invalidValue, "thresholds[1]"),
      ([.nan, nil], .nonFinite, "thresholds[0]"),
    ]
    for (thresholds, kind, path) in cases {
      XCTAssertThrowsError(try exec.predict(x, parameters: p, thresholds: thresholds), "\(thresholds)") {
        let e = $0 as! AdaError
        XCTAssertEqual(e.kind, kind, e.description)
        XCTAssertEqual(e.path, path, e.description)
      }
    }
    XCTAssertNoThrow(try exec.predict(x, parameters: p, thresholds: [0, 1]))
  }

  func testExitsNotInTheGraphOrNotInDepthOrderAreErrors() throws {
    let graph = Self.graph()
    func error(_ g: Graph, _ exits: [String]) -> AdaError? {
      do {
        _ = try ExitExecutor(graph: g, exits: exits, confidence: .maxSoftmax)
        return nil
      } catch { return error }
    }
    let missing = error(graph, ["e0", "nope"])
    XCTAssertEqual(missing?.kind, .missing)
    XCTAssertEqual(missing?.path, "exits[1].output")
    XCTAssertTrue(missing?.message.contains("'nope'") ?? false, missing?.description ?? "")

    let count = error(graph, ["e0"])
    XCTAssertEqual(count?.path, "exits")

    let notOutputs = error(graph, ["e1", "e0"])
    XCTAssertEqual(notOutputs?.path, "exits[0].output", notOutputs?.description ?? "")

    var swapped = graph
    swapped.outputs = ["e1", "e0", "final"]
    let order = error(swapped, ["e1", "e0"])
    XCTAssertEqual(order?.path, "exits[1].output", order?.description ?? "")
    XCTAssertTrue(order?.message.contains("depth order") ?? false, order?.description ?? "")

    var wide = graph
    wide.nodes[4].spec = .dense(DenseSpec(units: 4, activation: .softmax))
    let shape = error(wide, ["e0", "e1"])
    XCTAssertEqual(shape?.kind, .badShape)
    XCTAssertEqual(shape?.path, "exits[0].output")

    XCTAssertNil(error(graph, Self.exits))
  }

  func testWrongInputShapeIsAnError() throws {
    let exec = try ExitExecutor(graph: Self.graph(), exits: Self.exits, confidence: .maxSoftmax)
    let p = try Self.parameters(Self.graph(), seed: 1)
    XCTAssertThrowsError(
      try exec.predict(Tensor.zeros([2, 5, 5, 2]), parameters: p, thresholds: [nil, nil])
    ) {
      XCTAssertEqual(($0 as! AdaError).kind, .badShape)
    }
  }
}
