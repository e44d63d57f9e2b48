import AdaNN
import AdaTensor
import XCTest

@testable import AdaIO

final class KerasArchitectureTests: XCTestCase {
  func architecture(_ text: String, version: String? = nil) throws -> KerasArchitecture {
    try KerasArchitecture(
      json: JSONValue.parse(text, file: "m.h5", path: nil), file: "m.h5", kerasVersion: version)
  }

  func k3Tensor(_ layer: String) -> String {
    #"{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32", "keras_history": ["\#(layer)", 0, 0]}}"#
  }

  func testKeras3FunctionalWithListArgumentsAndTwoOutputs() throws {
    let text = """
      {"class_name": "Functional", "config": {"name": "net", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "name": "in"}, "name": "in", "inbound_nodes": []},
        {"class_name": "Dense", "config": {"name": "a", "units": 4}, "name": "a",
         "inbound_nodes": [{"args": [\(k3Tensor("in"))], "kwargs": {}}]},
        {"class_name": "Dense", "config": {"name": "b", "units": 4}, "name": "b",
         "inbound_nodes": [{"args": [\(k3Tensor("in"))], "kwargs": {"training": null}}]},
        {"class_name": "Add", "config": {"name": "sum"}, "name": "sum",
         "inbound_nodes": [{"args": [[\(k3Tensor("a")), \(k3Tensor("b"))]], "kwargs": {}}]},
        {"class_name": "Dense", "config": {"name": "head", "units": 2}, "name": "head",
         "inbound_nodes": [{"args": [\(k3Tensor("sum"))], "kwargs": {}}]}],
        "input_layers": ["in", 0, 0], "output_layers": [["head", 0, 0], ["sum", 0, 0]]}}
      """
    let a = try architecture(text, version: "3.15.1")
    XCTAssertEqual(a.kerasMajor, 3)
    XCTAssertEqual(a.graph.name, "net")
    XCTAssertEqual(a.graph.nodes.map(\.name), ["in", "a", "b", "sum", "head"])
    XCTAssertEqual(a.graph.node(named: "sum")?.inputs, ["a", "b"])
    XCTAssertEqual(a.graph.outputs, ["head", "sum"])
    XCTAssertEqual(a.modelLayerOrder.map(\.kerasName), ["in", "a", "b", "sum", "head"])
  }

  func testKeras2FunctionalUsesNestedListsAndIsRecognisedWithoutAVersion() throws {
    let text = """
      {"class_name": "Model", "config": {"name": "model", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "input_1"}, "name": "input_1", "inbound_nodes": []},
        {"class_name": "Dense", "config": {"name": "d1", "units": 4}, "name": "d1", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
        {"class_name": "Concatenate", "config": {"name": "cat", "axis": -1}, "name": "cat",
         "inbound_nodes": [[["d1", 0, 0, {}], ["input_1", 0, 0, {}]]]}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["cat", 0, 0]]}}
      """
    let a = try architecture(text)
    XCTAssertEqual(a.kerasMajor, 2)
    XCTAssertEqual(a.graph.node(named: "cat")?.inputs, ["d1", "input_1"])
    XCTAssertEqual(a.graph.outputs, ["cat"])
  }

  func testSequentialWithInputShapeOnItsFirstLayerGetsAnInputNode() throws {
    let text = """
      {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "Dense", "config": {"name": "dense", "units": 3, "batch_input_shape": [null, 5]}},
        {"class_name": "Dropout", "config": {"name": "drop", "rate": 0.5}},
        {"class_name": "Dense", "config": {"name": "out", "units": 2}}]}}
      """
    let a = try architecture(text, version: "2.13.1")
    XCTAssertEqual(a.graph.nodes.map(\.name), ["dense_input", "dense", "drop", "out"])
    XCTAssertEqual(a.graph.inputShape, [5])
    XCTAssertEqual(a.graph.node(named: "drop")?.inputs, ["dense"])
    XCTAssertEqual(
      a.modelLayerOrder.map(\.kerasName), ["dense", "drop", "out"], "Sequential.layers has no input layer")
  }

  func testNodesOutOfOrderAreSortedProducersFirst() throws {
    let text = """
      {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "Dense", "config": {"name": "late", "units": 2}, "name": "late", "inbound_nodes": [[["early", 0, 0, {}]]]},
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "x"}, "name": "x", "inbound_nodes": []},
        {"class_name": "Dense", "config": {"name": "early", "units": 3}, "name": "early", "inbound_nodes": [[["x", 0, 0, {}]]]}],
        "input_layers": [["x", 0, 0]], "output_layers": [["late", 0, 0]]}}
      """
    XCTAssertEqual(try architecture(text).graph.nodes.map(\.name), ["x", "early", "late"])
  }

  func testSharedLayersSecondInputsAndDanglingReferencesAreErrors() {
    let shared = """
      {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "x"}, "name": "x", "inbound_nodes": []},
        {"class_name": "Dense", "config": {"name": "d", "units": 4}, "name": "d", "inbound_nodes": [[["x", 0, 0, {}]], [["d", 0, 0, {}]]]}],
        "input_layers": [["x", 0, 0]], "output_layers": [["d", 1, 0]]}}
      """
    let twoInputs = """
      {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "x"}, "name": "x", "inbound_nodes": []},
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "y"}, "name": "y", "inbound_nodes": []},
        {"class_name": "Add", "config": {"name": "s"}, "name": "s", "inbound_nodes": [[["x", 0, 0, {}], ["y", 0, 0, {}]]]}],
        "input_layers": [["x", 0, 0], ["y", 0, 0]], "output_layers": [["s", 0, 0]]}}
      """
    let dangling = """
      {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "x"}, "name": "x", "inbound_nodes": []},
        {"class_name": "Dense", "config": {"name": "d", "units": 4}, "name": "d", "inbound_nodes": [[["ghost", 0, 0, {}]]]}],
        "input_layers": [["x", 0, 0]], "output_layers": [["d", 0, 0]]}}
      """
    for (text, kind, path, words) in [
      (shared, AdaError.Kind.unsupported, "d", "shared layer"), (twoInputs, .unsupported, "m", "2 inputs"),
      (dangling, .invalidValue, "d", "ghost"),
    ] {
      XCTAssertThrowsError(try architecture(text)) { error in
        let e = error as! AdaError
        XCTAssertEqual(e.kind, kind, "\(e)")
        XCTAssertEqual(e.file, "m.h5")
        XCTAssertEqual(e.path, path)
        XCTAssertTrue(e.message.contains(words), e.message)
      }
    }
  }

  func testUnknownModelClassIsUnsupported() {
    XCTAssertThrowsError(try architecture(#"{"class_name": "MyModel", "config": {"layers": []}}"#)) {
      XCTAssertEqual(($0 as! AdaError).kind, .unsupported)
    }
  }
}
