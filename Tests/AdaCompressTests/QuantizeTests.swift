import AdaCompress
import AdaNN
import AdaTensor
import AdaTrain
import TestSupport
import XCTest

final class QuantizeTests: XCTestCase {
  /// Every element of every quantized kernel is within half a step of the original, values stay
  /// in the symmetric range, and the model holds exactly the dequantized values.
  func check(bits: Int, file: StaticString = #filePath, line: UInt = #line) throws {
    let model = SmallModels.convNet()
    let result = try Quantize(bits: bits).apply(to: model, selecting: .all)
    XCTAssertEqual(
      result.quantized.keys.sorted(),
      ["conv_a/kernel", "conv_b/kernel", "dw/kernel", "fc1/kernel", "fc2/kernel"],
      file: file, line: line)
    let qmax = (1 << (bits - 1)) - 1
    for (key, q) in result.quantized {
      let original = model.parameters.tensors[key]!
      XCTAssertEqual(q.bits, bits)
      XCTAssertEqual(result.model.parameters.tensors[key], q.dequantized(), key, file: file, line: line)
      XCTAssertTrue(q.values.allSatisfy { abs(Int($0)) <= qmax }, key, file: file, line: line)
      var worst: (Int, Float) = (-1, 0)
      for i in 0..<original.count {
        let step = q.scales[i % q.channelCount]
        let err = abs(original.scalars[i] - Float(q.values[i]) * step)
        let excess = err - step / 2 * (1 + 1e-6)
        if excess > worst.1 { worst = (i, excess) }
      }
      XCTAssertEqual(
        worst.0, -1, "\(key): element \(worst.0) is \(worst.1) beyond half a step", file: file, line: line)
    }
  }

  func testEightBitKernelsMoveAtMostHalfAStepPerElement() throws { try check(bits: 8) }

  func testFourBitKernelsMoveAtMostHalfAStepPerElement() throws { try check(bits: 4) }

  func testScalesArePerOutputChannelAndTheLargestWeightMapsToTheRangeEnd() throws {
    let model = SmallModels.convNet()
    let result = try Quantize(bits: 4).apply(to: model, selecting: .all)
    // Conv2D [3, 3, 32, 32]: 32 channels on the last axis; depthwise [3, 3, 16, 2]: 16·2 channels.
    XCTAssertEqual(result.quantized["conv_b/kernel"]!.scales.count, 32)
    XCTAssertEqual(result.quantized["dw/kernel"]!.axis, 2)
    XCTAssertEqual(result.quantized["dw/kernel"]!.scales.count, 32)
    XCTAssertEqual(result.quantized["fc2/kernel"]!.scales.count, 10)
    for (key, q) in result.quantized {
      let w = model.parameters.tensors[key]!
      for c in 0..<q.channelCount {
        let members = stride(from: c, to: w.count, by: q.channelCount)
        let maxAbs = members.map { abs(w.scalars[$0]) }.max()!
        XCTAssertEqual(q.scales[c], maxAbs / 7, accuracy: maxAbs * 1e-6, "\(key) channel \(c)")
        XCTAssertTrue(members.contains { abs(q.values[$0]) == 7 }, "\(key) channel \(c) never reaches ±7")
      }
    }
  }

  func testBiasesAndOtherWeightsAreUntouchedAndCostsUnchanged() throws {
    let model = SmallModels.convNet()
    let result = try Quantize(bits: 8).apply(to: model, selecting: .all)
    for key in model.parameters.keys where !key.hasSuffix("/kernel") {
      XCTAssertEqual(result.model.parameters.tensors[key], model.parameters.tensors[key], key)
    }
    XCTAssertEqual(result.model.graph, model.graph)
    XCTAssertEqual(result.report.after.params, result.report.before.params)
    XCTAssertEqual(result.report.after.macs, result.report.before.macs)
  }

  func testWeightBytesCountQuantizedKernelsAtTheirBits() throws {
    let model = SmallModels.convNet()
    for bits in [8, 4] {
      let result = try Quantize(bits: bits).apply(to: model, selecting: .named(["conv_b"]))
      let n = 3 * 3 * 32 * 32  // conv_b reads dw: 16 channels × multiplier 2
      XCTAssertEqual(result.report.before.weightBytes, 4 * model.parameters.scalarCount)
      XCTAssertEqual(
        result.report.after.weightBytes, 4 * model.parameters.scalarCount - 4 * n + n * bits / 8 + 4 * 32,
        "\(bits)")
      XCTAssertEqual(result.quantized.keys.sorted(), ["conv_b/kernel"])
    }
  }

  func testQuantizedOutputsStayCloseToTheOriginal() throws {
    let model = SmallModels.convNet()
    let x = SmallModels.inputs(6, [8, 8, 4])
    let reference = SmallModels.predict(model, x)[0]
    let q8 = SmallModels.predict(try Quantize(bits: 8).apply(to: model, selecting: .all).model, x)[0]
    assertClose(q8, reference, atol: 0.02, "8-bit")
    XCTAssertNotEqual(q8, reference, "quantisation changed nothing")
  }

  func testAnAllZeroChannelQuantizesToZeroWithAUnitScale() {
    let w = Tensor(shape: [2, 2], scalars: [0, 0.5, 0, -1])
    let q = QuantizedTensor(quantizing: w, bits: 8, axis: 1)
    XCTAssertEqual(q.scales, [1, 1 / 127])
    XCTAssertEqual(q.values, [0, 64, 0, -127])
    XCTAssertNoThrow(try q.validate(path: "w"))
  }

  func testUnsupportedBitsAndIneligibleLayersAreErrors() {
    let model = SmallModels.convNet()
    XCTAssertThrowsError(try Quantize(bits: 3).apply(to: model, selecting: .all)) { error in
      XCTAssertEqual((error as? AdaError)?.path, "quantize.bits")
    }
    XCTAssertThrowsError(try Quantize(bits: 8).apply(to: model, selecting: .named(["bn"]))) { error in
      XCTAssertEqual((error as? AdaError)?.path, "bn")
      XCTAssertTrue((error as? AdaError)?.message.contains("Conv2D, Dense and DepthwiseConv2D") ?? false)
    }
  }

  func testTableEntriesSurviveOnlyWhileTheirWeightIsUnchanged() throws {
    let model = SmallModels.convNet()
    let result = try Quantize(bits: 8).apply(to: model, selecting: .all)
    var changed = result.model
    changed.parameters.tensors["fc1/kernel"]!.scalars[0] += 0.01
    XCTAssertEqual(result.quantized.stillMatching(result.model).count, 5)
    XCTAssertEqual(result.quantized.stillMatching(changed).keys.sorted().contains("fc1/kernel"), false)
    XCTAssertThrowsError(try result.quantized.validate(against: changed)) { error in
      XCTAssertEqual((error as? AdaError)?.path, "fc1/kernel")
    }
    let (requantized, table) = result.quantized.requantizing(changed)
    XCTAssertEqual(table.count, 5)
    XCTAssertNoThrow(try table.validate(against: requantized))
  }
}

final class QuantizationAwareFineTuneTests: XCTestCase {
  func testProjectingKeepsTheScalesAndIsTheIdentityOnTheGrid() throws {
    let model = SmallModels.convNet()
    let result = try Quantize(bits: 4).apply(to: model, selecting: .all)
    let (same, table) = result.quantized.projecting(result.model)
    XCTAssertEqual(same.parameters, result.model.parameters, "already on the grid")
    XCTAssertEqual(table, result.quantized)
    // A weight off the grid goes to the nearest grid point of its channel's fixed scale.
    var moved = result.model
    let key = result.quantized.keys.sorted()[0]
    let grid = result.quantized[key]!
    moved.parameters.tensors[key] = grid.dequantized().map { $0 * 0.9 }
    let (projected, newTable) = result.quantized.projecting(moved)
    XCTAssertEqual(newTable[key]!.scales, grid.scales)
    XCTAssertEqual(projected.parameters.tensors[key]!, newTable[key]!.dequantized())
  }

  func testFineTuningAQuantizedModelReturnsWeightsOnItsGrid() throws {
    let teacher = SmallModels.convNet()
    let result = try Quantize(bits: 4).apply(to: teacher, selecting: .all)
    let x = SmallModels.inputs(64, [8, 8, 4], seed: 21)
    let labels = SmallModels.predict(teacher, x)[0].argmaxRows().map { Int32($0) }
    let train = LabeledDataset(name: "synthetic", images: x, labels: labels, classCount: 10)
    let tuned = try Distillation(teacher: teacher, alpha: 1, temperature: 2).fineTune(
      result.model, on: train, options: FineTuneOptions(epochs: 2, batchSize: 16, learningRate: 3e-3),
      quantized: result.quantized
    ).model
    let (onGrid, table) = result.quantized.projecting(tuned)
    XCTAssertEqual(onGrid.parameters, tuned.parameters, "the fine-tuned weights are on the grid")
    XCTAssertEqual(table.keys.sorted(), result.quantized.keys.sorted())
    XCTAssertNotEqual(tuned.parameters, result.model.parameters, "and they were trained")
  }
}
