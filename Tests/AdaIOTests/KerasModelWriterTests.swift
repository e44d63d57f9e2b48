import AdaNN
import AdaTensor
import Foundation
import TestSupport
import XCTest

@testable import AdaIO

final class KerasModelWriterTests: XCTestCase {
  static let fixtures = [
    "mlp", "conv_ops", "depthwise_ops", "dag", "mobilenet_tiny", "keras2_seq", "keras2_dag",
  ]

  func testWriteThenReadGivesTheSameGraphAndParameters() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    for name in Self.fixtures {
      let model = try KerasModelReader.load(path: Fixtures.path("keras/\(name).h5"))
      try KerasModelWriter.save(model, to: dir.path("\(name).h5"))
      let back = try KerasModelReader.load(path: dir.path("\(name).h5"))
      XCTAssertEqual(back.parameters, model.parameters, name)
      XCTAssertEqual(back.graph.nodes, model.graph.nodes, name)
      XCTAssertEqual(back.graph.outputs, model.graph.outputs, name)
      XCTAssertEqual(back.graph.name, model.graph.name, name)
    }
  }

  func testWrittenFileHasTheKeras3LegacyLayout() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let model = try KerasModelReader.load(path: Fixtures.path("keras/conv_ops.h5"))
    try KerasModelWriter.save(model, to: dir.path("c.h5"))
    let file = try HDF5File.open(dir.path("c.h5"))
    XCTAssertEqual(try file.root.readString(attribute: "backend"), "jax")
    XCTAssertEqual(try file.root.readString(attribute: "keras_version"), KerasModelWriter.kerasVersion)
    let config = try JSONValue.parse(file.root.readString(attribute: "model_config"), file: nil, path: nil)
    XCTAssertEqual(config["class_name"]?.string, "Functional", "chains are written as Functional models")
    let weights = try file.root.group("model_weights")
    XCTAssertEqual(try weights.readSplitStrings(attribute: "layer_names"), model.graph.nodes.map(\.name))
    XCTAssertTrue(weights.contains("top_level_model_weights"))
    let bn = model.graph.nodes.first {
      if case .batchNorm(let s) = $0.spec { s.center && s.scale } else { false }
    }!
    XCTAssertEqual(
      try weights.group(bn.name).readStrings(attribute: "weight_names"),
      ["gamma", "beta", "moving_mean", "moving_variance"].map { "\(bn.name)/\($0)" })
    XCTAssertEqual(
      try weights.dataset("\(bn.name)/\(bn.name)/moving_variance").readTensor(),
      model.parameters[bn.name, "movingVariance"])
  }

  func testLayerOrderIsKerasOrderWhateverTheNodeOrder() throws {
    for name in Self.fixtures {
      let model = try KerasModelReader.load(path: Fixtures.path("keras/\(name).h5"))
      // Keras saved model.layers in its own order, so reading gives it back; the writer must agree.
      XCTAssertEqual(
        KerasModelWriter.kerasLayerOrder(model.graph).map(\.name), model.graph.nodes.map(\.name), name)
      var shuffled = model.graph
      shuffled.nodes = reversedTopological(shuffled.nodes)
      XCTAssertEqual(
        KerasModelWriter.kerasLayerOrder(shuffled).map(\.name), model.graph.nodes.map(\.name), name)
    }
  }

  /// Another valid topological order: repeatedly take the last node whose inputs are placed.
  func reversedTopological(_ nodes: [Node]) -> [Node] {
    var placed = Set<String>(), out: [Node] = [], pending = nodes
    while let i = pending.lastIndex(where: { $0.inputs.allSatisfy(placed.contains) }) {
      placed.insert(pending[i].name)
      out.append(pending.remove(at: i))
    }
    return out
  }

  func testNodesNoOutputNeedsAreLeftOut() throws {
    var model = try KerasModelReader.load(path: Fixtures.path("keras/dag.h5"))
    model.graph.outputs = [model.graph.outputs[0]]
    let order = KerasModelWriter.kerasLayerOrder(model.graph)
    XCTAssertLessThan(order.count, model.graph.nodes.count)
    XCTAssertEqual(order.first.map { if case .input = $0.spec { true } else { false } }, true)
  }

  func testHugeLayerListsAreSplitAcrossAttributes() throws {
    var nodes = [Node(name: "in", spec: .input(InputSpec(shape: [4])), inputs: [])]
    for i in 0..<2500 {
      nodes.append(
        Node(
          name: "dropout_with_a_rather_long_name_\(i)", spec: .dropout(DropoutSpec(rate: 0.1)),
          inputs: [nodes.last!.name]))
    }
    nodes.append(Node(name: "head", spec: .dense(DenseSpec(units: 2)), inputs: [nodes.last!.name]))
    let model = Model(
      graph: Graph(name: "long", nodes: nodes, outputs: ["head"]),
      parameters: Parameters(["head/kernel": ramp([4, 2]), "head/bias": ramp([2])]))
    let dir = ScratchDirectory()
    defer { dir.remove() }
    try KerasModelWriter.save(model, to: dir.path("long.h5"))
    if let keep = ProcessInfo.processInfo.environment["ADASCALE_KEEP_LONG_H5"] {
      try? FileManager.default.copyItem(atPath: dir.path("long.h5"), toPath: keep)
    }
    let weights = try HDF5File.open(dir.path("long.h5")).root.group("model_weights")
    XCTAssertFalse(try weights.hasAttribute("layer_names"))
    XCTAssertTrue(try weights.hasAttribute("layer_names1"))
    XCTAssertEqual(try weights.readSplitStrings(attribute: "layer_names"), nodes.map(\.name))
    XCTAssertEqual(try KerasModelReader.load(path: dir.path("long.h5")).graph.nodes, nodes)
  }

  func testSavingIsAtomicAndFailuresLeaveTheOldFile() throws {
    let dir = ScratchDirectory()
    defer { dir.remove() }
    let path = dir.path("m.h5")
    let model = try KerasModelReader.load(path: Fixtures.path("keras/mlp.h5"))
    try KerasModelWriter.save(model, to: path)
    let before = try Data(contentsOf: URL(fileURLWithPath: path))
    var broken = model
    broken.parameters.tensors.removeValue(forKey: broken.parameters.keys[0])
    XCTAssertThrowsError(try KerasModelWriter.save(broken, to: path)) { error in
      let e = error as! AdaError
      XCTAssertEqual(e.kind, .missing)
      XCTAssertEqual(e.file, path)
    }
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path), ["m.h5"])
    XCTAssertThrowsError(try KerasModelWriter.save(model, to: dir.path("no/such/dir/m.h5"))) {
      XCTAssertEqual(($0 as! AdaError).kind, .writeFailed)
    }
  }

  func testLayerNamesWithSlashesAreRejected() throws {
    var model = try KerasModelReader.load(path: Fixtures.path("keras/mlp.h5"))
    let old = model.graph.nodes[1].name
    model.graph.nodes[1].name = "block/1"
    for i in model.graph.nodes.indices {
      model.graph.nodes[i].inputs = model.graph.nodes[i].inputs.map { $0 == old ? "block/1" : $0 }
    }
    for key in model.parameters.keys where key.hasPrefix(old + "/") {
      model.parameters.tensors["block/1/" + key.dropFirst(old.count + 1)] = model.parameters.tensors
        .removeValue(forKey: key)
    }
    let dir = ScratchDirectory()
    defer { dir.remove() }
    XCTAssertThrowsError(try KerasModelWriter.save(model, to: dir.path("x.h5"))) { error in
      XCTAssertEqual((error as! AdaError).path, "block/1")
    }
  }
}
