import AdaBundle
import AdaCompress
import AdaIO
import AdaNN
import AdaProfile
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// `ModelBundle.open` on a small valid bundle, and every way a bundle can be broken: each must
/// be an `AdaError` naming the file and the field.
final class BundleReaderTests: XCTestCase {
  var dir: URL!

  override func setUp() { dir = Fixtures.temporaryDirectory("adascale-reader") }
  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  static func model(hidden: Int) -> Model {
    let graph = Graph(
      name: "mlp\(hidden)",
      nodes: [
        Node(name: "input", spec: .input(InputSpec(shape: [4])), inputs: []),
        Node(name: "hidden", spec: .dense(DenseSpec(units: hidden, activation: .relu)), inputs: ["input"]),
        Node(name: "out", spec: .dense(DenseSpec(units: 3)), inputs: ["hidden"]),
      ], outputs: ["out"])
    return Model(graph: graph, parameters: try! Parameters.initialize(for: graph, seed: UInt64(hidden)))
  }

  static func variant(_ id: String, hidden: Int, accuracy: Double, latencyMs: Double) -> Manifest.Variant {
    Manifest.Variant(
      id: id, file: "variants/\(id).h5", genome: SubnetConfig(blocks: [.init(block: "hidden")]),
      accuracy: accuracy, searchAccuracy: accuracy, latencyMs: latencyMs, predictedLatencyMs: latencyMs,
      params: 7 * hidden + 3, macs: 7 * hidden, weightBytes: 28 * hidden + 12, peakMemoryBytes: 64 * hidden,
      energyMj: latencyMs)
  }

  /// Two variants, a nominal context and one LUT row each.
  func writeBundle(edit: (inout Manifest, inout LookupTable) -> Void = { _, _ in }) throws {
    try FileManager.default.createDirectory(
      at: dir.appendingPathComponent("variants"), withIntermediateDirectories: true)
    try KerasModelWriter.save(Self.model(hidden: 2), to: dir.appendingPathComponent("variants/small.h5").path)
    try KerasModelWriter.save(Self.model(hidden: 6), to: dir.appendingPathComponent("variants/big.h5").path)
    var manifest = Manifest(
      toolVersion: "0.1.0", createdAt: "2025-01-01T00:00:00Z",
      source: .init(file: "m.h5", sha256: "ab", params: 10, macs: 10, accuracy: 0.9, latencyMs: 2),
      recipe: .init(name: "r", file: "r.yaml", sha256: "cd"), seed: 3,
      host: .init(cpu: "cpu", cores: 2, blas: "OpenBLAS", threads: 1),
      dataset: .init(name: "d", trainExamples: 1, validationExamples: 1, testExamples: 1),
      timings: .init(
        baselineSeconds: 0, supernetSeconds: 0, searchSeconds: 0, emitSeconds: 0, totalSeconds: 0),
      search: .init(algorithm: "nsga2", evaluations: 1, generations: 1, paretoSize: 2, hypervolume: 0),
      devices: ["host"], contexts: [.init(name: "nominal", context: DeviceContext())],
      variants: [
        Self.variant("small", hidden: 2, accuracy: 0.8, latencyMs: 1),
        Self.variant("big", hidden: 6, accuracy: 0.9, latencyMs: 2),
      ])
    var lut = LookupTable(
      rows: manifest.variants.map {
        LookupTable.Row(
          variant: $0.id, device: "host", source: "measured", context: "nominal", latencyMs: $0.latencyMs,
          latencyStdMs: 0.1, energyMj: $0.energyMj, memoryBytes: $0.peakMemoryBytes, accuracy: $0.accuracy,
          feasible: true)
      })
    edit(&manifest, &lut)
    try write(manifest, "manifest.json")
    try write(lut, "lut.json")
  }

  func write(_ value: some Encodable, _ name: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(value).write(to: dir.appendingPathComponent(name))
  }

  func replace(in name: String, _ old: String, with new: String) throws {
    let url = dir.appendingPathComponent(name)
    let text = try String(contentsOf: url, encoding: .utf8)
    XCTAssertTrue(text.contains(old), "\(name) has no '\(old)'")
    try text.replacingOccurrences(of: old, with: new).write(to: url, atomically: true, encoding: .utf8)
  }

  /// Opening fails with an error of `kind` whose description contains every one of `parts`.
  func assertOpenFails(_ kind: AdaError.Kind, _ parts: String..., line: UInt = #line) {
    do {
      _ = try ModelBundle.open(dir.path)
      XCTFail("opened a broken bundle", line: line)
    } catch {
      XCTAssertEqual(error.kind, kind, error.description, line: line)
      for part in parts {
        XCTAssertTrue(error.description.contains(part), "'\(part)' not in: \(error.description)", line: line)
      }
    }
  }

  func testValidBundleOpensAndLoadsItsVariants() throws {
    try writeBundle()
    let bundle = try ModelBundle.open(dir.path)
    XCTAssertEqual(bundle.manifest.variants.map(\.id), ["small", "big"])
    XCTAssertEqual(bundle.lut.rows.count, 2)
    XCTAssertEqual(try bundle.variantPath("big"), dir.appendingPathComponent("variants/big.h5").path)
    let (model, quantized) = try bundle.loadVariant("big")
    XCTAssertEqual(model.parameters, Self.model(hidden: 6).parameters)
    XCTAssertTrue(quantized.isEmpty)
    XCTAssertThrowsError(try bundle.loadVariant("medium")) { error in
      XCTAssertTrue("\(error)".contains("no variant 'medium'"), "\(error)")
    }
  }

  func testMissingDirectory() {
    try? FileManager.default.removeItem(at: dir)
    assertOpenFails(.fileNotFound, dir.path, "does not exist")
  }

  func testAFileIsNotABundle() throws {
    try? FileManager.default.removeItem(at: dir)
    try Data("x".utf8).write(to: dir)
    assertOpenFails(.badFormat, "expected a bundle directory")
  }

  func testEmptyDirectory() {
    assertOpenFails(.missing, "bundle directory is empty")
  }

  func testMissingManifest() throws {
    try writeBundle()
    try FileManager.default.removeItem(at: dir.appendingPathComponent("manifest.json"))
    assertOpenFails(.missing, "manifest.json", "the bundle has no manifest.json")
  }

  func testTruncatedManifest() throws {
    try writeBundle()
    let url = dir.appendingPathComponent("manifest.json")
    let data = try Data(contentsOf: url)
    try data.prefix(data.count / 2).write(to: url)
    assertOpenFails(.badFormat, "manifest.json", "not valid JSON")
  }

  func testWrongFieldTypeIsNamed() throws {
    try writeBundle()
    try replace(
      in: "manifest.json", "\"accuracy\" : 0.9,\n      \"energy_mj\"",
      with: "\"accuracy\" : \"high\",\n      \"energy_mj\"")
    assertOpenFails(.badFormat, "manifest.json", "variants[1].accuracy")
  }

  func testMissingFieldIsNamed() throws {
    try writeBundle()
    try replace(in: "manifest.json", "\"latency_ms\" : 1,", with: "")
    assertOpenFails(.missing, "manifest.json", "variants[0].latency_ms")
  }

  func testWrongFormat() throws {
    try writeBundle()
    try replace(in: "manifest.json", "\"adascale-bundle\"", with: "\"something-else\"")
    assertOpenFails(
      .invalidValue, "manifest.json: format", "expected 'adascale-bundle', found 'something-else'")
  }

  func testNewerFormatVersionAsksForAnUpgrade() throws {
    try writeBundle()
    try replace(in: "manifest.json", "\"format_version\" : 1", with: "\"format_version\" : 9")
    do {
      _ = try ModelBundle.open(dir.path)
      XCTFail("opened a bundle from the future")
    } catch {
      XCTAssertEqual(error.kind, .unsupported)
      XCTAssertEqual(error.path, "format_version")
      XCTAssertTrue(error.message.contains("9 is newer than this adascale reads (1)"), error.message)
      XCTAssertEqual(error.hint, "upgrade adascale to read this bundle")
    }
  }

  func testMissingLUT() throws {
    try writeBundle()
    try FileManager.default.removeItem(at: dir.appendingPathComponent("lut.json"))
    assertOpenFails(.missing, "lut.json")
  }

  func testCorruptLUT() throws {
    try writeBundle()
    try Data("{\"format\": \"adascale-lut\", \"format_version\": 1, \"rows\": [".utf8)
      .write(to: dir.appendingPathComponent("lut.json"))
    assertOpenFails(.badFormat, "lut.json", "not valid JSON")
  }

  func testNewerLUTVersion() throws {
    try writeBundle()
    try replace(in: "lut.json", "\"format_version\" : 1", with: "\"format_version\" : 2")
    assertOpenFails(.unsupported, "lut.json", "format_version")
  }

  func testMissingVariantFile() throws {
    try writeBundle()
    try FileManager.default.removeItem(at: dir.appendingPathComponent("variants/big.h5"))
    assertOpenFails(.fileNotFound, "variants/big.h5", "variants[1].file", "variant 'big'")
  }

  func testLUTRowNamingAnUnknownVariant() throws {
    try writeBundle { _, lut in lut.rows[1].variant = "huge" }
    assertOpenFails(.invalidValue, "lut.json: rows[1].variant", "'huge'", "small, big")
  }

  func testLUTRowNamingAnUnknownContext() throws {
    try writeBundle { _, lut in lut.rows[0].context = "busy" }
    assertOpenFails(.invalidValue, "lut.json: rows[0].context", "'busy'")
  }

  /// NaN written as a JSON literal (as Python's json module does) is named, not a parse error.
  func testNaNValuesAreNamed() throws {
    try writeBundle()
    try replace(in: "lut.json", "\"latency_ms\" : 2,", with: "\"latency_ms\" : NaN,")
    assertOpenFails(.nonFinite, "lut.json: rows[1].latency_ms", "nan")
  }

  func testNaNInTheManifest() throws {
    try writeBundle()
    try replace(in: "manifest.json", "\"energy_mj\" : 1,", with: "\"energy_mj\" : Infinity,")
    assertOpenFails(.nonFinite, "manifest.json: variants[0].energy_mj")
  }

  func testOutOfRangeAccuracy() throws {
    try writeBundle { m, _ in m.variants[0].accuracy = 80 }
    assertOpenFails(.invalidValue, "variants[0].accuracy", "an accuracy in [0, 1], found 80")
  }

  func testDuplicateVariantIds() throws {
    try writeBundle { m, _ in m.variants[1].id = "small" }
    assertOpenFails(.invalidValue, "variants[1].id", "appears twice")
  }

  func testNoVariants() throws {
    try writeBundle { m, lut in
      m.variants = []
      lut.rows = []
    }
    assertOpenFails(.missing, "lists no variants")
  }
}
