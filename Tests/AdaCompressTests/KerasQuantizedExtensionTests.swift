import AdaCompress
import AdaIO
import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// The `/adascale_quantized` group: written by `KerasModelWriter.save(_:quantized:to:)`, read
/// back by `KerasModelReader.loadWithQuantized`, checked against the float weights.
final class KerasQuantizedExtensionTests: XCTestCase {
  var directory: URL!

  override func setUp() { directory = Fixtures.temporaryDirectory() }
  override func tearDown() { try? FileManager.default.removeItem(at: directory) }

  func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  func testIntegersAndScalesRoundTripThroughWriterAndReader() throws {
    for bits in [8, 4] {
      let result = try Quantize(bits: bits).apply(to: SmallModels.convNet(), selecting: .all)
      let file = path("q\(bits).h5")
      try KerasModelWriter.save(result.model, quantized: result.quantized, to: file)
      let (model, quantized) = try KerasModelReader.loadWithQuantized(path: file)
      XCTAssertEqual(quantized, result.quantized, "\(bits) bits")
      XCTAssertEqual(model.parameters, result.model.parameters, "\(bits) bits")
    }
  }

  func testTheGroupHoldsInt8ValuesFloatScalesAndBitsAndAxisAttributes() throws {
    let result = try Quantize(bits: 4).apply(to: SmallModels.convNet(), selecting: .named(["dw"]))
    let file = path("layout.h5")
    try KerasModelWriter.save(result.model, quantized: result.quantized, to: file)
    let h5 = try HDF5File.open(file)
    let group = try h5.root.group("adascale_quantized")
    XCTAssertEqual(try group.readString(attribute: "format"), "adascale-quantized")
    XCTAssertEqual(try group.readNumbers(attribute: "version"), [1])
    let entry = try group.group("dw/kernel")
    XCTAssertEqual(try entry.readNumbers(attribute: "bits"), [4])
    XCTAssertEqual(try entry.readNumbers(attribute: "axis"), [2])
    XCTAssertEqual(try entry.dataset("q").elementClass(), .integer(bytes: 1, signed: true))
    XCTAssertEqual(try entry.dataset("q").shape(), [3, 3, 16, 2])
    XCTAssertEqual(try entry.dataset("scale").elementClass(), .float(bytes: 4))
    XCTAssertEqual(try entry.dataset("scale").shape(), [32])
    // Keras's own weights are the dequantized floats.
    XCTAssertEqual(
      try h5.root.dataset("model_weights/dw/dw/kernel").readTensor(),
      result.quantized["dw/kernel"]!.dequantized())
  }

  func testFilesWithoutTheGroupReadAsUnquantized() throws {
    let (model, quantized) = try KerasModelReader.loadWithQuantized(
      path: Fixtures.path("keras/mobilenet_tiny.h5"))
    XCTAssertTrue(quantized.isEmpty)
    let zipped = try KerasQuantizedExtension.read(
      path: Fixtures.path("keras/mobilenet_tiny.keras"), model: model)
    XCTAssertTrue(zipped.isEmpty, "a .keras archive is not HDF5: no quantized group")
    let file = path("plain.h5")
    try KerasModelWriter.save(SmallModels.convNet(), to: file)
    XCTAssertFalse(try HDF5File.open(file).root.contains("adascale_quantized"))
  }

  func testWriterRefusesATableThatDoesNotMatchTheWeights() throws {
    let result = try Quantize(bits: 8).apply(to: SmallModels.convNet(), selecting: .all)
    var model = result.model
    model.parameters.tensors["conv_b/kernel"]!.scalars[5] += 0.001
    let file = path("mismatch.h5")
    XCTAssertThrowsError(try KerasModelWriter.save(model, quantized: result.quantized, to: file)) { error in
      XCTAssertEqual((error as? AdaError)?.path, "conv_b/kernel")
      XCTAssertEqual((error as? AdaError)?.file, file)
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: file))
  }

  func testValidationRejectsOutOfRangeValuesAndBadScales() {
    let good = QuantizedTensor(bits: 4, axis: 1, shape: [2, 2], values: [7, -7, 0, 1], scales: [0.1, 0.2])
    XCTAssertNoThrow(try good.validate(path: "d/kernel"))
    var wide = good
    wide.values[0] = 8
    XCTAssertThrowsError(try wide.validate(path: "d/kernel")) { error in
      XCTAssertTrue((error as? AdaError)?.message.contains("outside ±7") ?? false, "\(error)")
    }
    var zero = good
    zero.scales[1] = 0
    XCTAssertThrowsError(try zero.validate(path: "d/kernel"))
    var short = good
    short.scales = [0.1]
    XCTAssertThrowsError(try short.validate(path: "d/kernel")) { error in
      XCTAssertEqual((error as? AdaError)?.kind, .badShape)
    }
  }
}
