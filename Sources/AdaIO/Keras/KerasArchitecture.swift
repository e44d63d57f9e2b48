import AdaNN
import AdaTensor

/// A Keras model config (the `model_config` attribute, `config.json`, or `model.to_json()`)
/// decoded into a `Graph`, plus what the weight readers need: each layer's class and the order of
/// `model.layers` (which `.weights.h5` files use).
///
/// Handles Sequential and Functional models in both config dialects:
/// - Keras 3: `inbound_nodes: [{"args": [{"class_name": "__keras_tensor__",
///   "config": {"keras_history": [layer, node, tensor]}}], "kwargs": {}}]`, `batch_shape`;
/// - Keras 2: `inbound_nodes: [[[layer, node, tensor, {}], …]]`, `batch_input_shape`.
struct KerasArchitecture {
  struct Layer {
    var name: String
    var className: String
    var spec: LayerSpec
  }

  var graph: Graph
  /// Every layer, in config order, including the input layer.
  var layers: [Layer]
  /// The layers in `model.layers` order (Sequential models leave out their input layer).
  var modelLayerOrder: [Layer]
  var kerasMajor: Int

  /// Decodes `json`. `kerasVersion` is the writer's version when the file records it.
  init(json: JSONValue, file: String?, kerasVersion: String?) throws(AdaError) {
    let className = json["class_name"]?.string ?? ""
    guard let body = json["config"] else {
      throw AdaError(.badFormat, file: file, path: "model_config", "model config has no 'config' entry")
    }
    let entries = body.array ?? body["layers"]?.array ?? []
    let name = body["name"]?.string ?? (className == "Sequential" ? "sequential" : "model")
    kerasMajor = KerasArchitecture.majorVersion(kerasVersion, entries: entries)
    let parse = LayerParser(file: file, kerasMajor: kerasMajor)
    switch className {
    case "Sequential":
      (graph, layers, modelLayerOrder) = try parse.sequential(name: name, entries: entries, body: body)
    case "Functional", "Model":
      (graph, layers) = try parse.functional(name: name, entries: entries, body: body)
      modelLayerOrder = layers
    default:
      throw AdaError(
        .unsupported, file: file, path: "model_config",
        "model class '\(className)' is not supported; adascale reads Sequential and Functional models")
    }
  }

  /// 2 for Keras 1/2 files, else 3; without a recorded version, Keras 2 is recognised by its
  /// config dialect (`batch_input_shape`, list-style `inbound_nodes`).
  static func majorVersion(_ version: String?, entries: [JSONValue]) -> Int {
    if let v = version, let major = Int(v.split(separator: ".").first ?? "") { return major < 3 ? 2 : 3 }
    for e in entries {
      if e["config"]?["batch_input_shape"] != nil { return 2 }
      if let node = e["inbound_nodes"]?.array?.first, node.array != nil { return 2 }
    }
    return 3
  }
}

/// Turns layer entries into nodes.
private struct LayerParser {
  var file: String?
  var kerasMajor: Int

  func decode(_ entry: JSONValue, index: Int) throws(AdaError) -> KerasArchitecture.Layer {
    let config = entry["config"] ?? .object([])
    guard let className = entry["class_name"]?.string else {
      throw AdaError(.badFormat, file: file, path: "layers[\(index)]", "layer entry has no class_name")
    }
    guard let name = entry["name"]?.string ?? config["name"]?.string else {
      throw AdaError(.badFormat, file: file, path: "layers[\(index)]", "layer entry has no name")
    }
    let c = KerasLayerConfig(
      name: name, className: className, config: config, file: file, kerasMajor: kerasMajor)
    return .init(name: name, className: className, spec: try KerasLayerDecoding.spec(for: c))
  }

  func sequential(name: String, entries: [JSONValue], body: JSONValue) throws(AdaError)
    -> (Graph, [KerasArchitecture.Layer], [KerasArchitecture.Layer])
  {
    var layers: [KerasArchitecture.Layer] = []
    for (i, e) in entries.enumerated() { layers.append(try decode(e, index: i)) }
    var all = layers
    if layers.first?.className != "InputLayer" {
      // Keras 2 puts the input shape on the first layer; Keras 3 may keep it in build_input_shape.
      let first = entries.first?["config"]
      let shape = first?["batch_input_shape"] ?? first?["batch_shape"] ?? body["build_input_shape"]
      guard let shape, !shape.isNull else {
        throw AdaError(
          .missing, file: file, path: name, "Sequential model has no input layer and no input shape")
      }
      let inputName = kerasMajor < 3 ? "\(layers.first?.name ?? "sequential")_input" : "input_layer"
      let c = KerasLayerConfig(
        name: inputName, className: "InputLayer", config: .object(["batch_shape": shape]), file: file)
      all.insert(
        .init(name: inputName, className: "InputLayer", spec: .input(try KerasLayerDecoding.inputSpec(c))),
        at: 0)
    }
    var nodes: [Node] = []
    for (i, l) in all.enumerated() {
      if i > 0, l.className == "InputLayer" {
        throw AdaError(.unsupported, file: file, path: l.name, "Sequential model has a second input layer")
      }
      nodes.append(Node(name: l.name, spec: l.spec, inputs: i == 0 ? [] : [all[i - 1].name]))
    }
    guard nodes.count > 1 else {
      throw AdaError(.invalidValue, file: file, path: name, "Sequential model has no layers")
    }
    let modelOrder = all.filter { $0.className != "InputLayer" }
    return (Graph(name: name, nodes: nodes, outputs: [nodes.last!.name]), all, modelOrder)
  }

  func functional(name: String, entries: [JSONValue], body: JSONValue) throws(AdaError)
    -> (Graph, [KerasArchitecture.Layer])
  {
    var layers: [KerasArchitecture.Layer] = []
    var nodes: [Node] = []
    for (i, e) in entries.enumerated() {
      let layer = try decode(e, index: i)
      layers.append(layer)
      nodes.append(Node(name: layer.name, spec: layer.spec, inputs: try inbound(e, layer: layer.name)))
    }
    let inputLayers = layers.filter { $0.className == "InputLayer" }
    guard inputLayers.count == 1 else {
      throw AdaError(
        .unsupported, file: file, path: name,
        "model has \(inputLayers.count) inputs (\(inputLayers.map(\.name).joined(separator: ", "))); adascale supports one"
      )
    }
    let outputs = try references(body["output_layers"], what: "output_layers", model: name)
    guard !outputs.isEmpty else {
      throw AdaError(.missing, file: file, path: name, "Functional model config has no output_layers")
    }
    let graph = Graph(name: name, nodes: try topologicallySorted(nodes, model: name), outputs: outputs)
    return (graph, layers)
  }

  /// The producer names of a Functional layer's single call.
  func inbound(_ entry: JSONValue, layer: String) throws(AdaError) -> [String] {
    let calls = entry["inbound_nodes"]?.array ?? []
    if calls.isEmpty { return [] }
    guard calls.count == 1 else {
      throw AdaError(
        .unsupported, file: file, path: layer,
        "layer '\(layer)' is called \(calls.count) times (a shared layer), which adascale does not support")
    }
    var history: [JSONValue] = []
    if let list = calls[0].array {
      history = list  // Keras 2: [[name, node, tensor, {kwargs}], …]
    } else {
      collectKerasTensors(calls[0]["args"], into: &history)  // Keras 3
      var fromKwargs: [JSONValue] = []
      collectKerasTensors(calls[0]["kwargs"], into: &fromKwargs)
      guard fromKwargs.isEmpty else {
        throw AdaError(
          .unsupported, file: file, path: layer, "layer '\(layer)' receives tensors as keyword arguments")
      }
    }
    var names: [String] = []
    for h in history { names.append(try reference(h, layer: layer)) }
    return names
  }

  /// Keras 3 `__keras_tensor__` entries anywhere inside `value`, in order.
  func collectKerasTensors(_ value: JSONValue?, into out: inout [JSONValue]) {
    guard let value else { return }
    if value["class_name"]?.string == "__keras_tensor__", let h = value["config"]?["keras_history"] {
      out.append(h)
    } else if let a = value.array {
      for v in a { collectKerasTensors(v, into: &out) }
    } else if case .object(let members) = value {
      for m in members { collectKerasTensors(m.value, into: &out) }
    }
  }

  /// `[name, node_index, tensor_index, …]` → name; only first calls and single outputs exist here.
  func reference(_ h: JSONValue, layer: String) throws(AdaError) -> String {
    guard let a = h.array, let producer = a.first?.string else {
      throw AdaError(.badFormat, file: file, path: layer, "inbound reference \(h.text) is malformed")
    }
    let nodeIndex = a.count > 1 ? a[1].int ?? 0 : 0
    let tensorIndex = a.count > 2 ? a[2].int ?? 0 : 0
    guard nodeIndex == 0, tensorIndex == 0 else {
      throw AdaError(
        .unsupported, file: file, path: layer,
        "layer '\(layer)' reads call \(nodeIndex) / output \(tensorIndex) of '\(producer)' (shared or multi-output layer)"
      )
    }
    return producer
  }

  /// `input_layers` / `output_layers`: `[name, 0, 0]` or `[[name, 0, 0], …]`.
  func references(_ value: JSONValue?, what: String, model: String) throws(AdaError) -> [String] {
    guard let a = value?.array, !a.isEmpty else { return [] }
    if a.first?.string != nil { return [try reference(.array(a), layer: model)] }
    var out: [String] = []
    for r in a { out.append(try reference(r, layer: model)) }
    return out
  }

  /// Nodes in an order where producers come first, keeping config order where possible.
  /// A reference to a layer that does not exist, or a cycle, is an error naming the layer.
  func topologicallySorted(_ nodes: [Node], model: String) throws(AdaError) -> [Node] {
    let names = Set(nodes.map(\.name))
    for n in nodes {
      if let bad = n.inputs.first(where: { !names.contains($0) }) {
        throw AdaError(
          .invalidValue, file: file, path: n.name,
          "layer '\(n.name)' reads '\(bad)', which is not in the model")
      }
    }
    var placed = Set<String>()
    var out: [Node] = []
    var pending = nodes
    while !pending.isEmpty {
      guard let i = pending.firstIndex(where: { $0.inputs.allSatisfy(placed.contains) }) else {
        throw AdaError(.invalidValue, file: file, path: pending[0].name, "the model's layers form a cycle")
      }
      placed.insert(pending[i].name)
      out.append(pending.remove(at: i))
    }
    return out
  }
}
