import AdaNN
import AdaProfile
import XCTest

/// Builds a chain (each layer reads the previous one unless `inputs` are given).
func chain(_ input: [Int], _ layers: [(String, LayerSpec, [String]?)]) -> Graph {
  var nodes = [Node(name: "input", spec: .input(InputSpec(shape: input)), inputs: [])]
  for (name, spec, inputs) in layers {
    nodes.append(Node(name: name, spec: spec, inputs: inputs ?? [nodes.last!.name]))
  }
  return Graph(name: "test", nodes: nodes, outputs: [nodes.last!.name])
}

final class MemoryModelTests: XCTestCase {
  /// input [4] → dense 8 → dense 2. Step 0: x 16 B; step 1: x + h = 16 + 32; step 2: h + y = 32 + 8.
  /// Weights (4·8 + 8) + (8·2 + 2) = 58 floats.
  func testDenseChainPeakIsInputPlusHiddenAtStepOne() throws {
    let g = chain([4], [("d1", .dense(DenseSpec(units: 8)), nil), ("d2", .dense(DenseSpec(units: 2)), nil)])
    let m = try MemoryModel.estimate(graph: g)
    XCTAssertEqual(m.weightBytes, 58 * 4)
    XCTAssertEqual(m.peakActivationBytes, 48)
    XCTAssertEqual(m.peakWorkingBytes, 48)
    XCTAssertEqual(m.peakStep, 1)
    XCTAssertEqual(m.peakBytes, 58 * 4 + 48)
  }

  /// input [1] → dense 16 (a) → flatten (aliases a) → dense 1 (b). Step 1: x + a = 4 + 64;
  /// step 2: a only (flatten allocates nothing); step 3: a + b = 64 + 4. Counting flatten as a
  /// new buffer would give 128 at step 2.
  func testAliasingLayersAllocateNothing() throws {
    let g = chain(
      [1],
      [
        ("a", .dense(DenseSpec(units: 16)), nil), ("f", .flatten, nil),
        ("b", .dense(DenseSpec(units: 1)), nil),
      ])
    let m = try MemoryModel.estimate(graph: g)
    XCTAssertEqual(m.peakActivationBytes, 68)
  }

  /// input [4] → dense 4 (a) → dropout → dense 4 (b) → add(a, b). `a` lives until the add reads
  /// it: step 4 holds a + b + sum = 48 B.
  func testSkipConnectionKeepsItsSourceAliveUntilTheLastReader() throws {
    let g = chain(
      [4],
      [
        ("a", .dense(DenseSpec(units: 4)), nil), ("drop", .dropout(DropoutSpec(rate: 0.5)), nil),
        ("b", .dense(DenseSpec(units: 4)), nil), ("sum", .add, ["a", "b"]),
      ])
    let m = try MemoryModel.estimate(graph: g)
    XCTAssertEqual(m.peakActivationBytes, 48)
    XCTAssertEqual(m.peakStep, 4)
  }

  /// input [4, 4, 1] → conv 3×3 same, 2 filters → global average pool. Step 1 holds x (64 B),
  /// the output (4·4·2·4 = 128 B) and the im2col columns (16 · 9 · 4 = 576 B).
  /// Weights 3·3·1·2 + 2 = 20 floats.
  func testConvolutionWorkspaceCountsAtItsStepOnly() throws {
    let g = chain(
      [4, 4, 1],
      [
        ("c", .conv2D(Conv2DSpec(filters: 2, kernel: .square(3), padding: .same)), nil),
        ("g", .globalPool2D(GlobalPool2DSpec(kind: .average)), nil),
      ])
    let m = try MemoryModel.estimate(graph: g)
    XCTAssertEqual(m.weightBytes, 80)
    XCTAssertEqual(m.peakActivationBytes, 192)
    XCTAssertEqual(m.peakWorkingBytes, 192 + 576)
    XCTAssertEqual(m.peakStep, 1)
    XCTAssertEqual(m.peakBytes, 80 + 768)

    let batch4 = try MemoryModel.estimate(graph: g, batch: 4)
    XCTAssertEqual(batch4.weightBytes, 80, "weights do not grow with the batch")
    XCTAssertEqual(batch4.peakWorkingBytes, 4 * 768)

    let int8 = try MemoryModel.estimate(graph: g, defaultBits: 8)
    XCTAssertEqual(int8.weightBytes, 20)
  }

  /// fmnist CNN: the peak is at conv2 — pool1 out (14·14·32·4 = 25,088) + conv2 out
  /// (14·14·64·4 = 50,176) + im2col (14·14·288·4 = 225,792).
  func testFashionMNISTPeakIsAtTheSecondConvolution() throws {
    let m = try MemoryModel.estimate(graph: fmnistGraph())
    XCTAssertEqual(m.peakStep, 5)
    XCTAssertEqual(m.peakWorkingBytes, 25_088 + 50_176 + 225_792)
    XCTAssertEqual(m.weightBytes, 220_618 * 4)
  }
}
