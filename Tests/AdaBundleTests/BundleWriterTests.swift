import AdaBundle
import AdaBundleWriter
import AdaCore
import AdaIO
import AdaNN
import AdaONNX
import AdaProfile
import AdaTensor
import Foundation
import TestSupport
import XCTest

/// `BundleWriter.write`: the layout, what round-trips, and the directory-level atomicity.
final class BundleWriterTests: XCTestCase {
  var scratch: URL!
  var bundle: String { scratch.appendingPathComponent("bundle").path }

  override func setUp() { scratch = Fixtures.temporaryDirectory("adabundle") }
  override func tearDown() { try? FileManager.default.removeItem(at: scratch) }

  func file(_ name: String) -> String { "\(bundle)/\(name)" }

  /// Entries of the scratch directory other than the bundle itself (temporaries left behind).
  func leftovers() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0 != "bundle" }.sorted()
  }

  func testWritesEveryFileOfTheLayout() throws {
    try BundleWriter.write(
      BundleFixtures.contents(opsTable: try BundleFixtures.opsTable()), to: bundle, overwrite: false)
    let expected = [
      "lut.csv", "lut.json", "manifest.json", "ops-lut.json", "pareto-host.svg", "pareto-raspberry-pi-4.svg",
      "pareto.svg", "report.md", "variants",
    ]
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: bundle).sorted(), expected)
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: file("variants")).sorted(),
      ["v01.h5", "v01.onnx", "v02.h5", "v02.onnx", "v03.h5", "v03.onnx"])
    XCTAssertEqual(try leftovers(), [])
    let ops = try OpTable.load(path: file("ops-lut.json"))
    XCTAssertEqual(ops.rows, try BundleFixtures.opsTable().rows)
  }

  func testOpsTableIsLeftOutWhenAbsent() throws {
    try BundleWriter.write(BundleFixtures.contents(), to: bundle, overwrite: false)
    XCTAssertFalse(FileManager.default.fileExists(atPath: file("ops-lut.json")))
  }

  func testManifestAndLookupTableRoundTripThroughJSONDecoder() throws {
    let contents = BundleFixtures.contents()
    try BundleWriter.write(contents, to: bundle, overwrite: false)
    var manifest = try JSONDecoder().decode(
      Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: file("manifest.json"))))
    for i in manifest.variants.indices { manifest.variants[i].files = [] }  // filled in by the writer
    XCTAssertEqual(manifest, contents.manifest)
    let lut = try JSONDecoder().decode(
      LookupTable.self, from: Data(contentsOf: URL(fileURLWithPath: file("lut.json"))))
    XCTAssertEqual(lut, contents.lut)
    // Snake-case keys, pretty-printed and sorted.
    let text = try String(contentsOfFile: file("manifest.json"), encoding: .utf8)
    XCTAssertTrue(text.contains("\"format_version\" : 1"), text)
    XCTAssertTrue(text.contains("\"predicted_latency_ms\""))
    XCTAssertLessThan(
      text.range(of: "\"contexts\"")!.lowerBound, text.range(of: "\"created_at\"")!.lowerBound)
  }

  func testVariantsReloadWithTheirQuantizedWeightsAndPredictTheSame() throws {
    let contents = BundleFixtures.contents()
    try BundleWriter.write(contents, to: bundle, overwrite: false)
    var g = SeededGenerator(seed: 5)
    let x = Tensor.uniform([3, 4, 4, 2], lo: 0, hi: 1, using: &g)
    for payload in contents.variants {
      let (model, quantized) = try KerasModelReader.loadWithQuantized(path: file("variants/\(payload.id).h5"))
      XCTAssertEqual(quantized, payload.quantized, payload.id)
      let expected = try Executor(graph: payload.model.graph).predict(x, parameters: payload.model.parameters)
      let actual = try Executor(graph: model.graph).predict(x, parameters: model.parameters)
      XCTAssertEqual(actual.count, expected.count)
      for (a, e) in zip(actual, expected) { assertClose(a, e, rtol: 0, atol: 1e-6, payload.id) }
    }
    XCTAssertEqual(contents.payload(id: "v02")?.quantized.count, 2, "the fixture quantizes two kernels")
  }

  func testEveryVariantFileIsListedWithItsSHA256() throws {
    try BundleWriter.write(BundleFixtures.contents(), to: bundle, overwrite: false)
    let manifest = try JSONDecoder().decode(
      Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: file("manifest.json"))))
    for variant in manifest.variants {
      XCTAssertEqual(variant.files.map(\.file), [variant.file, variant.file(.onnx)], variant.id)
      XCTAssertEqual(variant.files.map(\.format), [.keras, .onnx])
      for entry in variant.files {
        XCTAssertEqual(entry.sha256, try SHA256.hex(file: file(entry.file)), entry.file)
      }
    }
  }

  func testKerasOnlyFormatsWriteNoONNXFiles() throws {
    var contents = BundleFixtures.contents()
    contents.formats = [.keras]
    try BundleWriter.write(contents, to: bundle, overwrite: false)
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: file("variants")).sorted(),
      ["v01.h5", "v02.h5", "v03.h5"])
    contents.formats = [.onnx]
    let error = XCTAssertThrowsAdaError(try BundleWriter.write(contents, to: bundle + "2", overwrite: false))
    XCTAssertEqual(error?.path, "output.formats")
  }

  func testShippedONNXPredictsWhatTheKerasFileDoes() throws {
    let contents = BundleFixtures.contents()
    try BundleWriter.write(contents, to: bundle, overwrite: false)
    for payload in contents.variants {
      let data = try Data(contentsOf: URL(fileURLWithPath: file("variants/\(payload.id).onnx")))
      let (expected, _) = try ONNXExporter.export(payload.model, quantized: payload.quantized)
      XCTAssertEqual(data, expected, "\(payload.id).onnx is the exporter's output for the variant")
    }
  }

  func testLookupTableCSVIsTheTablesRows() throws {
    let contents = BundleFixtures.contents()
    try BundleWriter.write(contents, to: bundle, overwrite: false)
    let text = try String(contentsOfFile: file("lut.csv"), encoding: .utf8)
    XCTAssertEqual(text, contents.lut.csv)
    // The header, one line per row, and the empty piece after the final CRLF.
    XCTAssertEqual(text.components(separatedBy: "\r\n").count, contents.lut.rows.count + 2)
  }

  func testExistingBundleIsNotReplacedWithoutOverwrite() throws {
    try BundleWriter.write(BundleFixtures.contents(), to: bundle, overwrite: false)
    let before = try Data(contentsOf: URL(fileURLWithPath: file("manifest.json")))
    var changed = BundleFixtures.contents()
    changed.manifest.seed = 7
    XCTAssertThrowsError(try BundleWriter.write(changed, to: bundle, overwrite: false)) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.file, self.bundle)
      XCTAssertTrue(e.hint?.contains("--overwrite") ?? false, "\(e)")
      XCTAssertTrue(e.hint?.contains("output.overwrite") ?? false, "\(e)")
    }
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file("manifest.json"))), before)
    XCTAssertEqual(try leftovers(), [])
  }

  func testOverwriteReplacesTheWholeBundle() throws {
    try BundleWriter.write(
      BundleFixtures.contents(opsTable: try BundleFixtures.opsTable()), to: bundle, overwrite: false)
    var changed = BundleFixtures.contents()
    changed.manifest.seed = 7
    try BundleWriter.write(changed, to: bundle, overwrite: true)
    let manifest = try JSONDecoder().decode(
      Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: file("manifest.json"))))
    XCTAssertEqual(manifest.seed, 7)
    XCTAssertFalse(FileManager.default.fileExists(atPath: file("ops-lut.json")), "old files must not survive")
    XCTAssertEqual(try leftovers(), [])
  }

  func testAnEmptyExistingDirectoryIsFilledWithoutOverwrite() throws {
    try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
    try BundleWriter.write(BundleFixtures.contents(), to: bundle + "/", overwrite: false)
    XCTAssertTrue(FileManager.default.fileExists(atPath: file("manifest.json")))
    XCTAssertEqual(try leftovers(), [])
  }

  func testOverwriteRefusesADirectoryThatIsNotABundle() throws {
    try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
    try Data("keep me".utf8).write(to: URL(fileURLWithPath: file("notes.txt")))
    XCTAssertThrowsError(try BundleWriter.write(BundleFixtures.contents(), to: bundle, overwrite: true))
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: bundle), ["notes.txt"])
    XCTAssertEqual(try leftovers(), [])
  }

  func testFailureWhileWritingVariantsLeavesThePreviousBundleAndNoTemporaries() throws {
    try BundleWriter.write(BundleFixtures.contents(), to: bundle, overwrite: false)
    let before = try Data(contentsOf: URL(fileURLWithPath: file("manifest.json")))
    var broken = BundleFixtures.contents()
    broken.manifest.seed = 9
    broken.variants[2].model.parameters.tensors["fc/bias"] = nil  // v03 cannot be written
    XCTAssertThrowsError(try BundleWriter.write(broken, to: bundle, overwrite: true)) { error in
      let e = error as! AdaError
      XCTAssertEqual(
        e.file, self.file("variants/v03.h5"), "the error names the final path, not the temporary")
      XCTAssertEqual(e.path, "fc/bias")
    }
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file("manifest.json"))), before)
    XCTAssertEqual(try leftovers(), [])
  }

  func testFailureWithoutAPreviousBundleLeavesNothing() throws {
    var broken = BundleFixtures.contents()
    broken.variants[1].quantized["conv1/kernel"]!.scales[0] *= 2  // no longer the model's weights
    XCTAssertThrowsError(try BundleWriter.write(broken, to: bundle, overwrite: false))
    XCTAssertFalse(FileManager.default.fileExists(atPath: bundle))
    XCTAssertEqual(try leftovers(), [])
  }

  func testMissingPayloadIsAnErrorNamingTheVariant() throws {
    var contents = BundleFixtures.contents()
    contents.variants.removeAll { $0.id == "v02" }
    XCTAssertThrowsError(try BundleWriter.write(contents, to: bundle, overwrite: false)) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .invalidValue)
      XCTAssertEqual(e.path, "variants[1].id")
      XCTAssertTrue(e.message.contains("v02"), e.message)
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: bundle))
    XCTAssertEqual(try leftovers(), [])
  }

  func testPayloadWithoutManifestVariantAndWrongFileAreErrors() throws {
    var extra = BundleFixtures.contents()
    extra.variants.append(VariantPayload(id: "v09", model: extra.variants[0].model))
    XCTAssertThrowsError(try BundleWriter.write(extra, to: bundle, overwrite: false)) { error in
      XCTAssertTrue((error as! AdaError).message.contains("v09"), "\(error)")
    }
    var wrongFile = BundleFixtures.contents()
    wrongFile.manifest.variants[0].file = "v01.h5"
    XCTAssertThrowsError(try BundleWriter.write(wrongFile, to: bundle, overwrite: false)) { error in
      XCTAssertEqual((error as! AdaError).path, "variants[0].file")
    }
  }

  func testLookupTableRowsMustNameManifestVariantsDevicesAndContexts() throws {
    let cases: [(String, (inout LookupTable.Row) -> Void)] = [
      ("rows[4].variant", { $0.variant = "v99" }), ("rows[4].device", { $0.device = "toaster" }),
      ("rows[4].context", { $0.context = "asleep" }),
    ]
    for (path, mutate) in cases {
      var contents = BundleFixtures.contents()
      mutate(&contents.lut.rows[4])
      XCTAssertThrowsError(try BundleWriter.write(contents, to: bundle, overwrite: false)) { error in
        let e = error as! AdaError
        XCTAssertEqual(e.path, path)
        XCTAssertEqual(e.file, self.file("lut.json"))
      }
    }
    var duplicate = BundleFixtures.contents()
    duplicate.lut.rows.append(duplicate.lut.rows[0])
    XCTAssertThrowsError(try BundleWriter.write(duplicate, to: bundle, overwrite: false))
    XCTAssertFalse(FileManager.default.fileExists(atPath: bundle))
  }

  func testNonFiniteNumbersAreErrorsNamingTheField() throws {
    var manifest = BundleFixtures.contents()
    manifest.manifest.variants[1].latencyMs = .nan
    XCTAssertThrowsError(try BundleWriter.write(manifest, to: bundle, overwrite: false)) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .nonFinite)
      XCTAssertEqual(e.file, self.file("manifest.json"))
      XCTAssertEqual(e.path, "variants[1].latency_ms")
    }
    var context = BundleFixtures.contents()
    context.manifest.contexts[1].context.cpuShare = .infinity
    XCTAssertThrowsError(try BundleWriter.write(context, to: bundle, overwrite: false)) { error in
      XCTAssertEqual((error as! AdaError).path, "contexts[1].context.cpu_share")
    }
    var lut = BundleFixtures.contents()
    lut.lut.rows[2].energyMj = -.infinity
    XCTAssertThrowsError(try BundleWriter.write(lut, to: bundle, overwrite: false)) { error in
      XCTAssertEqual((error as! AdaError).path, "rows[2].energy_mj")
    }
    var report = BundleFixtures.contents()
    report.report.history[3].hypervolume = .nan
    XCTAssertThrowsError(try BundleWriter.write(report, to: bundle, overwrite: false)) { error in
      XCTAssertEqual((error as! AdaError).path, "report.history[3].hypervolume")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: bundle))
  }

  func testReportSourceFiguresMustMatchTheManifest() throws {
    var contents = BundleFixtures.contents()
    contents.report.sourceAccuracy = 0.5
    XCTAssertThrowsError(try BundleWriter.write(contents, to: bundle, overwrite: false)) { error in
      XCTAssertEqual((error as! AdaError).path, "report.source_accuracy")
    }
  }

  func testParentDirectoriesAreCreated() throws {
    let nested = scratch.appendingPathComponent("a/b/bundle").path
    try BundleWriter.write(BundleFixtures.contents(), to: nested, overwrite: false)
    XCTAssertTrue(FileManager.default.fileExists(atPath: "\(nested)/manifest.json"))
  }

  func testDeviceNamesAreMadeFileSafeForPlotNames() {
    XCTAssertEqual(BundleWriter.paretoFileName(device: "raspberry-pi-4"), "pareto-raspberry-pi-4.svg")
    XCTAssertEqual(BundleWriter.paretoFileName(device: "a/b c"), "pareto-a_b_c.svg")
  }
}

/// A variant with early exits: its multi-exit model is written to `exits.file`, read back with
/// the exits first and the variant's output last; a plan without a model is refused.
final class BundleWriterExitsTests: XCTestCase {
  var scratch: URL!
  var bundle: String { scratch.appendingPathComponent("bundle").path }

  override func setUp() { scratch = Fixtures.temporaryDirectory("adabundle-exits") }
  override func tearDown() { try? FileManager.default.removeItem(at: scratch) }

  /// v02 (quantized) plus a GAP → Dense exit after conv1.
  func contentsWithExits() throws -> (BundleContents, Model) {
    var contents = BundleFixtures.contents()
    let variant = contents.variants[1].model
    var nodes = variant.graph.nodes
    let at = nodes.firstIndex { $0.name == "conv1" }! + 1
    nodes.insert(
      contentsOf: [
        Node(
          name: "conv1_exit_pool", spec: .globalPool2D(GlobalPool2DSpec(kind: .average)), inputs: ["conv1"]),
        Node(
          name: "conv1_exit", spec: .dense(DenseSpec(units: 3, activation: .softmax)),
          inputs: ["conv1_exit_pool"]),
      ], at: at)
    let graph = Graph(name: variant.graph.name, nodes: nodes, outputs: ["conv1_exit"] + variant.graph.outputs)
    var parameters = variant.parameters
    var g = SeededGenerator(seed: 4)
    parameters["conv1_exit", "kernel"] = .uniform([4, 3], lo: -1, hi: 1, using: &g)
    parameters["conv1_exit", "bias"] = Tensor(shape: [3])
    let multi = Model(graph: graph, parameters: parameters)
    try multi.validate()
    contents.variants[1].exitModel = multi
    contents.variants[1].exitQuantized = contents.variants[1].quantized
    let id = contents.manifest.variants[1].id
    contents.manifest.variants[1].exits = Manifest.ExitPlan(
      file: BundleWriter.exitVariantFile(id: id), confidence: .maxSoftmax,
      exits: [
        Manifest.Exit(
          output: "conv1_exit", block: "conv1", node: "conv1", head: "gap", macs: 300, headMacs: 12,
          predictedLatencyMs: 0.01, headPredictedLatencyMs: 0.001, validationAccuracy: 0.5)
      ], finalMacs: 1000, finalPredictedLatencyMs: 0.02,
      operatingPoints: [
        Manifest.OperatingPoint(
          name: "drop-0", kind: .accuracyDrop, target: 0, thresholds: [0.9], exitRates: [0.4, 0.6],
          expectedMacs: 700, expectedLatencyMs: 0.015, validationAccuracy: 0.8, testAccuracy: 0.79,
          testExitRates: [0.38, 0.62], testExpectedMacs: 710)
      ])
    return (contents, multi)
  }

  func testMultiExitModelIsWrittenAndReadsBackInOrder() throws {
    let (contents, multi) = try contentsWithExits()
    try BundleWriter.write(contents, to: bundle, overwrite: false)
    let path = "\(bundle)/variants/\(contents.manifest.variants[1].id)_exits.h5"
    let read = try KerasModelReader.load(path: path)
    XCTAssertEqual(read.graph.outputs, ["conv1_exit", "fc"])
    var g = SeededGenerator(seed: 9)
    let x = Tensor.uniform([3, 4, 4, 2], lo: 0, hi: 1, using: &g)
    let a = try Executor(graph: read.graph).predict(x, parameters: read.parameters)
    let b = try Executor(graph: multi.graph).predict(x, parameters: multi.parameters)
    XCTAssertEqual(a.map(\.scalars), b.map(\.scalars))
  }

  func testAPlanWithoutAModelIsRefused() throws {
    var (contents, _) = try contentsWithExits()
    contents.variants[1].exitModel = nil
    XCTAssertThrowsError(try BundleWriter.write(contents, to: bundle, overwrite: false)) { error in
      XCTAssertEqual((error as? AdaError)?.path, "variants[1].exits")
    }
  }
}
