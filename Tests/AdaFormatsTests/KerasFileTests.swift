import AdaFormats
import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaIO

/// Reads the committed Keras fixtures (tools/reference/make_keras_fixtures.py and friends).
final class KerasFileTests: XCTestCase {
  static let keras3Models = ["mlp", "conv_ops", "depthwise_ops", "dag", "mobilenet_tiny"]

  func testTheThreeKeras3FormatsGiveIdenticalGraphsAndParameters() throws {
    for name in Self.keras3Models {
      let h5 = try KerasFile.load(path: Fixtures.path("keras/\(name).h5"))
      let zip = try KerasFile.load(path: Fixtures.path("keras/\(name).keras"))
      let weights = try KerasFile.load(
        path: Fixtures.path("keras/\(name).weights.h5"), config: Fixtures.path("keras/\(name).config.json"))
      XCTAssertEqual(h5.graph, zip.graph, name)
      XCTAssertEqual(h5.graph, weights.graph, name)
      XCTAssertEqual(h5.parameters, zip.parameters, name)
      XCTAssertEqual(h5.parameters, weights.parameters, name)
      XCTAssertFalse(h5.parameters.tensors.isEmpty, name)
    }
  }

  func testParametersEqualTheStoredDatasets() throws {
    let model = try KerasFile.load(path: Fixtures.path("keras/mobilenet_tiny.h5"))
    let file = try HDF5File.open(Fixtures.path("keras/mobilenet_tiny.h5"))
    let weights = try file.root.group("model_weights")
    var checked = 0
    for layer in try weights.readSplitStrings(attribute: "layer_names") ?? [] {
      for stored in try weights.group(layer).readSplitStrings(attribute: "weight_names") ?? [] {
        let ours = [
          "kernel": "kernel", "bias": "bias", "gamma": "gamma", "beta": "beta", "moving_mean": "movingMean",
          "moving_variance": "movingVariance", "depthwise_kernel": "depthwiseKernel",
          "pointwise_kernel": "pointwiseKernel",
        ][KerasWeightNames.baseName(stored)]!
        XCTAssertEqual(
          model.parameters[layer, ours], try weights.group(layer).dataset(stored).readTensor(), stored)
        checked += 1
      }
    }
    XCTAssertEqual(checked, model.parameters.tensors.count)
  }

  func testSequentialFixtureIsAChainFromItsInputLayer() throws {
    let model = try KerasFile.load(path: Fixtures.path("keras/conv_ops.h5"))
    let nodes = model.graph.nodes
    XCTAssertEqual(nodes.first.map { if case .input = $0.spec { true } else { false } }, true)
    XCTAssertEqual(model.graph.inputShape, [16, 16, 3])
    for i in 1..<nodes.count { XCTAssertEqual(nodes[i].inputs, [nodes[i - 1].name]) }
    XCTAssertEqual(model.graph.outputs, [nodes.last!.name])
  }

  func testKeras2FilesUseColonZeroNamesAndTheirConfigDialect() throws {
    let seq = try KerasFile.load(path: Fixtures.path("keras/keras2_seq.h5"))
    XCTAssertEqual(seq.parameters["bn2", "gamma"]?.shape.count, 1)
    XCTAssertNil(seq.parameters["bn2", "beta"], "bn2 has center=False")
    XCTAssertNil(seq.parameters["conv2", "bias"], "conv2 has no bias")
    let dag = try KerasFile.load(path: Fixtures.path("keras/keras2_dag.h5"))
    XCTAssertEqual(dag.graph.outputs.count, 2)
    XCTAssertNotNil(dag.parameters["depthwise", "kernel"], "Keras 2's depthwise_kernel:0 becomes kernel")
    XCTAssertNotNil(dag.parameters["separable", "depthwiseKernel"])
    let file = try HDF5File.open(Fixtures.path("keras/keras2_dag.h5"))
    let stored = try file.root.dataset("model_weights/depthwise/depthwise/depthwise_kernel:0").readTensor()
    XCTAssertEqual(dag.parameters["depthwise", "kernel"], stored)
    if case .separableConv2D(let s) = dag.graph.node(named: "separable")?.spec {
      XCTAssertEqual(s.activation, .swish)
    } else {
      XCTFail("separable is not a SeparableConv2D")
    }
  }

  func testWeightsFileFindsItsSiblingConfig() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    for ext in ["weights.h5", "config.json"] {
      try FileManager.default.copyItem(
        atPath: Fixtures.path("keras/mlp.\(ext)"), toPath: dir.path("mlp.\(ext)"))
    }
    let model = try KerasFile.load(path: dir.path("mlp.weights.h5"))
    XCTAssertEqual(
      model.parameters, try KerasFile.load(path: Fixtures.path("keras/mlp.h5")).parameters)
    try FileManager.default.removeItem(atPath: dir.path("mlp.config.json"))
    XCTAssertThrowsError(try KerasFile.load(path: dir.path("mlp.weights.h5"))) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .missing)
      XCTAssertEqual(e.file, dir.path("mlp.weights.h5"))
    }
  }

  func testWeightsFileWithoutRecordedNamesIsMatchedByClassAndPosition() throws {
    // Older Keras 3 files have no `name` attribute on vars groups: rebuild one from mobilenet_tiny.
    let source = try KerasFile.load(path: Fixtures.path("keras/mobilenet_tiny.h5"))
    let json = try JSONValue.parse(
      KerasModelReader.readText(Fixtures.path("keras/mobilenet_tiny.config.json")), file: nil, path: nil)
    let architecture = try KerasArchitecture(json: json, file: nil, kerasVersion: "3")
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let file = try HDF5File.create(dir.path("old.weights.h5"))
    var used: [String: Int] = [:]
    for member in architecture.modelLayerOrder {
      guard case .layer(let layer) = member else { continue }
      let base = kerasSnakeCase(layer.className)
      let k = used[base].map { $0 + 1 } ?? 0
      used[base] = k
      let vars = try file.root.createGroup("layers/\(k == 0 ? base : "\(base)_\(k)")/vars")
      for (i, w) in KerasWeightNames.weights(for: layer.spec).enumerated() {
        try vars.write(dataset: "\(i)", tensor: source.parameters[layer.name, w.internalName]!)
      }
    }
    try file.close()
    let model = try KerasFile.load(
      path: dir.path("old.weights.h5"), config: Fixtures.path("keras/mobilenet_tiny.config.json"))
    XCTAssertEqual(model.parameters, source.parameters)
  }

  /// Nested models are flattened: inner layers keep their names unless taken, then get the inner
  /// model's name as a prefix; the nested models themselves and their inputs are not nodes.
  func testNestedModelsAreFlattenedWithUniqueNames() throws {
    for ext in ["h5", "keras", "weights.h5"] {
      let model = try KerasFile.load(path: Fixtures.path("keras/nested_transfer.\(ext)"))
      let names = model.graph.nodes.map(\.name)
      XCTAssertEqual(
        names,
        [
          "input", "rescale", "stem_conv", "stem_bn", "stem_relu", "dw", "dw_bn", "block_add",
          "tiny_base_head_conv", "head_conv", "gap", "predictions",
        ], ext)
      XCTAssertEqual(
        model.graph.node(named: "stem_conv")?.inputs, ["rescale"], "reads what the base was called on")
      XCTAssertEqual(model.graph.outputs, ["predictions"], "the Sequential head's output")
      XCTAssertNotNil(model.parameters["tiny_base_head_conv", "kernel"])
    }
    let deep = try KerasFile.load(path: Fixtures.path("keras/nested_deep.h5"))
    XCTAssertEqual(
      deep.graph.nodes.map(\.name),
      ["input", "conv", "bn", "relu", "block_b_conv", "block_b_bn", "block_b_relu", "gap", "predictions"])
  }

  /// Frozen nested models move their weights to the non-trainable part of the legacy `.h5` group
  /// (nested_deep: `block_a` frozen, and equal layer names force Keras's positional rule): every
  /// format must still give each layer the same weights.
  func testNestedWeightsAreTheSameInEveryFormat() throws {
    for name in ["nested_deep", "nested_transfer"] {
      let legacy = try KerasFile.load(path: Fixtures.path("keras/\(name).h5"))
      for ext in ["keras", "weights.h5"] {
        let other = try KerasFile.load(path: Fixtures.path("keras/\(name).\(ext)"))
        XCTAssertEqual(other.parameters, legacy.parameters, "\(name).\(ext)")
      }
    }
  }

  /// Each broken fixture (Tests/Fixtures/bad/README.md) gives the documented error kind, names
  /// the file, and points at the layer or HDF5 path.
  func testBrokenFilesGiveLocatedErrors() {
    let cases: [(String, AdaError.Kind, String)] = [
      ("truncated.h5", .badFormat, "truncated"),
      ("not_hdf5.h5", .badFormat, "not an HDF5 file"),
      ("unknown_layer.h5", .unsupported, "gru"),
      ("shared_nested.h5", .unsupported, "inner"),
      ("missing_weight.h5", .missing, "model_weights/conv_same_s2/conv_ops/conv_same_s2/kernel"),
      ("wrong_shape.h5", .badShape, "model_weights/conv_valid/conv_ops/conv_valid/kernel"),
      ("nan_weights.h5", .nonFinite, "model_weights/conv_1x1/conv_ops/conv_1x1/kernel"),
      ("corrupt.keras", .badFormat, "model.weights.h5"),
    ]
    for (name, kind, location) in cases {
      let path = Fixtures.path("bad/\(name)")
      XCTAssertThrowsError(try KerasFile.load(path: path), name) { error in
        let e = error as! AdaError
        XCTAssertEqual(e.kind, kind, "\(name): \(e)")
        XCTAssertEqual(e.file, path, name)
        XCTAssertTrue(e.description.contains(location), "\(name): '\(e)' should mention \(location)")
      }
    }
  }

  func testClassNamesAppearInUnsupportedMessages() {
    XCTAssertThrowsError(try KerasFile.load(path: Fixtures.path("bad/unknown_layer.h5"))) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.path, "gru")
      XCTAssertEqual(e.message, "layer 'gru' has class GRU, which adascale does not support")
    }
    XCTAssertThrowsError(try KerasFile.load(path: Fixtures.path("bad/shared_nested.h5"))) { error in
      XCTAssertTrue((error as! AdaError).message.contains("'inner' is called 2 times (a shared layer)"))
    }
  }

  func testMissingFileAndDirectoryAreReported() throws {
    XCTAssertThrowsError(try KerasFile.load(path: "/no/such/model.h5")) {
      XCTAssertEqual(($0 as! AdaError).kind, .fileNotFound)
    }
    XCTAssertThrowsError(
      try KerasFile.load(path: Fixtures.path("keras/mlp.h5"), config: "/no/cfg.json")
    ) {
      XCTAssertEqual(($0 as! AdaError).file, "/no/cfg.json")
    }
  }

  func testEveryTruncationOfAFixtureFailsCleanly() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    for name in ["mlp.h5", "mlp.keras", "mlp.weights.h5"] {
      let bytes = try Data(contentsOf: Fixtures.url("keras/\(name)"))
      for fraction in stride(from: 0.05, to: 1.0, by: 0.15) {
        let path = dir.path("cut-\(Int(fraction * 100))-\(name)")
        try bytes.prefix(Int(Double(bytes.count) * fraction)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(
          try KerasFile.load(
            path: path, config: name.hasSuffix("weights.h5") ? Fixtures.path("keras/mlp.config.json") : nil)
        ) { error in
          XCTAssertEqual((error as! AdaError).file, path, "\(error)")
        }
      }
    }
  }
}
